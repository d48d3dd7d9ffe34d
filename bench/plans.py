"""Change plans: evaluating a plan of 20 changes on a generated system of 1,000 services / 5,000
interactions (bench/topology.py's generator), as POST /api/v1/plans/evaluate/ does it: the
topology loaded, the changes applied, the findings of both computed and compared, the blast radius
of each affected service, and each changed interaction evaluated again. Goal: <= 1 s. Also the time
to build the plan's drawing (plans/drawing.py) that the pages show.

    .venv/bin/python bench/plans.py [--services 1000] [--changes 20] [--repeat 3]
"""
import argparse
import statistics
import subprocess
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
        from plans.drawing import plan_dot
        from plans.evaluation import plan_evaluate, plan_evaluated
        from topology.models import Interaction

        populate(args.services, args.services * 5)
        picked = list(Interaction.objects.filter(style__in=["rest", "grpc"]).order_by("id")
                      .values_list("source__name", "name")[:args.changes])
        changes, errors = changes_parse({"changes": [
            {"interaction": f"{source}/{name}", "style": "pubsub", "channel": f"{name}.events", "broker": "kafka"}
            for source, name in picked]})
        assert not errors, errors
        runs, cpu = [], []
        for _ in range(args.repeat + 1):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = plan_evaluate(changes=changes)
            runs.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        runs, cpu = runs[1:], cpu[1:]  # the first warms the process (imports, ruleset)
        print(f"database {connection.vendor}; {args.services} services / {args.services * 5} interactions; "
              f"plan of {len(changes)} changes (sync -> pubsub)")
        print(f"evaluate: median {statistics.median(runs) * 1000:.0f} ms (range {min(runs) * 1000:.0f}-"
              f"{max(runs) * 1000:.0f}, {args.repeat} runs after one warm-up); goal <= 1000 ms")
        print(f"evaluate, CPU time of this process: median {statistics.median(cpu) * 1000:.0f} ms "
              "(less sensitive than the wall clock to other work on the machine)")
        evaluated = plan_evaluated(changes=changes)
        started = time.perf_counter()
        dot = plan_dot(before=evaluated.before, after=evaluated.after, changes=changes, result=evaluated.result)
        print(f"the plan's drawing (DOT text, as the page builds it): {(time.perf_counter() - started) * 1000:.1f} ms, "
              f"{dot.count(' [label=')} services, "
              f"{sum(1 for line in dot.splitlines() if ' -> ' in line and 'plan:summary' not in line)} edges")
        Path(var_dir, "plan.dot").write_text(dot)
        started = time.perf_counter()
        subprocess.run(["dot", "-Tsvg", "-o", str(Path(var_dir, "plan.svg")), str(Path(var_dir, "plan.dot"))], check=True,
                       timeout=60)
        print(f"drawn by Graphviz (dot -Tsvg): {(time.perf_counter() - started) * 1000:.0f} ms")
        print(f"findings {len(result['before']['findings'])} -> {len(result['after']['findings'])}; "
              f"better {len(result['better'])}, worse {len(result['worse'])}")


if __name__ == "__main__":
    main()
