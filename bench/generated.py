"""The generated system of bench/topology.py for the other benches. That file is loaded by its path:
`topology` is also the name of the Django app."""
import importlib.util
from pathlib import Path


def populate(services: int, interactions: int) -> None:
    spec = importlib.util.spec_from_file_location("bench_topology", Path(__file__).resolve().parent / "topology.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.populate(services, interactions)
