"""Probes: declared as plain data (spec), checked against the target policy, run concurrently (runner)."""
from .addresses import ALWAYS_DENIED
from .policy import TargetPolicy, TargetRefused, address_resolve, policy_build
from .runner import coroutine_run, probe_run, probes_run, probes_run_async

__all__ = [
    "ALWAYS_DENIED", "TargetPolicy", "TargetRefused", "address_resolve", "policy_build",
    "coroutine_run", "probe_run", "probes_run", "probes_run_async",
]
