"""Change plans: evaluating a plan of 20 changes on a generated system of 1,000 services / 5,000
interactions (bench/topology.py's generator), as POST /api/v1/plans/evaluate/ does it: the
topology loaded, the changes applied, the findings of both computed and compared, the blast radius
of each affected service, and each changed interaction evaluated again. Goal: <= 1 s.

    .venv/bin/python bench/plans.py [--services 1000] [--changes 20] [--repeat 3]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated import populate  # noqa: E402
from ingest import setup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        setup(var_dir)
        from django.db import connection

        from plans.changes import changes_parse
        from plans.evaluation import plan_evaluate
        from topology.models import Interaction

        populate(args.services, args.services * 5)
        picked = list(Interaction.objects.filter(style__in=["rest", "grpc"]).order_by("id")
                      .values_list("source__name", "name")[:args.changes])
        changes, errors = changes_parse({"changes": [
            {"interaction": f"{source}/{name}", "style": "pubsub", "channel": f"{name}.events", "broker": "kafka"}
            for source, name in picked]})
        assert not errors, errors
        runs = []
        for _ in range(args.repeat + 1):
            started = time.perf_counter()
            result = plan_evaluate(changes=changes)
            runs.append(time.perf_counter() - started)
        runs = runs[1:]  # the first warms the process (imports, ruleset)
        print(f"database {connection.vendor}; {args.services} services / {args.services * 5} interactions; "
              f"plan of {len(changes)} changes (sync -> pubsub)")
        print(f"evaluate: median {statistics.median(runs) * 1000:.0f} ms (range {min(runs) * 1000:.0f}-"
              f"{max(runs) * 1000:.0f}, {args.repeat} runs after one warm-up); goal <= 1000 ms")
        print(f"findings {len(result['before']['findings'])} -> {len(result['after']['findings'])}; "
              f"better {len(result['better'])}, worse {len(result['worse'])}")


if __name__ == "__main__":
    main()
