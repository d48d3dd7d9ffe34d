"""Rules engine speed: evaluate 10,000 stored interactions.

Runs twice: with criteria drawn from a pool of shared answer sets (the usual case: alike
interactions are answered alike), and with every interaction's answers drawn afresh. Prints evaluations per second of the engine (full recommendations with reasons that name the
services), cold (empty memo) and warm, and the ratio to a hand-written `if` chain of the same
built-in rules run on the same data in the same run. The `if` chain only scores and picks; the
engine also writes every reason's sentence. Goal: >= 50,000 evaluations/s.

    .venv/bin/python bench/rules.py [--interactions 10000] [--seed 7]
"""
import argparse
import gc
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import clear, setup  # noqa: E402

BOOLS = ("needs_immediate_response", "can_defer", "requires_decoupling", "bursty_traffic",
         "eventual_consistency_ok", "external_clients", "needs_streaming")


def random_criteria(rng: random.Random) -> dict:
    criteria = {key: rng.choice([True, False]) for key in BOOLS if rng.random() < 0.6}
    if rng.random() < 0.7:
        criteria["operation"] = rng.choice(["read", "write", "command", "notification"])
    if rng.random() < 0.5:
        criteria["latency_budget_ms"] = rng.choice([10, 20, 50, 100, 200, 500, 1000])
    if rng.random() < 0.5:
        criteria["peak_rps"] = rng.choice([1, 10, 100, 1000, 5000, 20000])
    return criteria


def populate(count: int, seed: int, vectors: int) -> None:
    """Interactions whose criteria come from a pool of `vectors` answer sets (0: every one drawn afresh).

    Real systems repeat themselves: teams answer the criteria alike for alike interactions.
    """
    from topology.models import Interaction, InteractionTarget, Service, Team

    rng = random.Random(seed)
    pool = [random_criteria(rng) for _ in range(vectors)]
    draw = (lambda: dict(rng.choice(pool))) if vectors else (lambda: random_criteria(rng))
    team = Team.objects.get_or_create(slug="bench-rules", name="Bench")[0]
    services = Service.objects.bulk_create([Service(name=f"svc-{i:05d}", team=team) for i in range(count // 5 + 10)])
    rows = [Interaction(source=rng.choice(services), name=f"i-{i:05d}", criteria=draw(),
                        style=rng.choice(["", "rest", "grpc", "pubsub", "queue"])) for i in range(count)]
    rows = Interaction.objects.bulk_create(rows)
    InteractionTarget.objects.bulk_create([
        InteractionTarget(interaction=row, service=target, position=position)
        for row in rows for position, target in enumerate(rng.sample(services, rng.choice([1, 1, 1, 2, 3])))
    ])


def load_questions() -> list:
    from decisions.recommendations import _target_names, question_of
    from topology.models import Interaction

    items = list(Interaction.objects.select_related("source").order_by("id"))
    names = _target_names([item.id for item in items])
    return [question_of(source=item.source.name, targets=names.get(item.id, ()), criteria=item.criteria,
                        declared_style=item.style) for item in items]


def if_chain(c: dict, targets: int) -> tuple[str, str | None, str | None]:
    """The built-in rules of builtin.yaml, written out by hand (pattern, protocol, broker)."""
    p = {"request-response": 0.0, "pub-sub": 0.0, "queue": 0.0, "hybrid": 0.0}
    now, defer, op = c.get("needs_immediate_response"), c.get("can_defer"), c.get("operation")
    if now is True:
        p["request-response"] += 4; p["hybrid"] += 2; p["pub-sub"] -= 3; p["queue"] -= 3  # noqa: E702
    if now is False:
        p["request-response"] -= 1; p["pub-sub"] += 1; p["queue"] += 1  # noqa: E702
    if op == "read":
        p["request-response"] += 3; p["pub-sub"] -= 2; p["queue"] -= 2  # noqa: E702
    if op == "write":
        p["request-response"] += 1
    if op == "command" and now is True:
        p["request-response"] += 1; p["hybrid"] += 1  # noqa: E702
    if op == "notification":
        p["pub-sub"] += 3; p["request-response"] -= 2  # noqa: E702
    if defer is True:
        p["pub-sub"] += 2; p["queue"] += 2; p["request-response"] -= 2  # noqa: E702
    if defer is False:
        p["request-response"] += 1; p["hybrid"] += 1  # noqa: E702
    if targets > 1 and now is not True:
        p["pub-sub"] += 3; p["queue"] -= 2  # noqa: E702
    if targets > 1 and now is True:
        p["hybrid"] += 6
    if targets == 1 and defer is True and now is not True:
        p["queue"] += 2; p["pub-sub"] -= 1  # noqa: E702
    if c.get("requires_decoupling") is True:
        p["pub-sub"] += 2; p["queue"] += 2; p["request-response"] -= 2  # noqa: E702
    if c.get("bursty_traffic") is True:
        p["queue"] += 3; p["pub-sub"] += 1; p["request-response"] -= 2  # noqa: E702
    if c.get("eventual_consistency_ok") is False:
        p["request-response"] += 2; p["hybrid"] += 1; p["pub-sub"] -= 1; p["queue"] -= 1  # noqa: E702
    if c.get("eventual_consistency_ok") is True:
        p["pub-sub"] += 1; p["queue"] += 1  # noqa: E702
    if c.get("needs_streaming") is True:
        p["request-response"] += 1
    order = ("pub-sub", "hybrid", "request-response", "queue") if targets > 1 else \
        ("request-response", "queue", "pub-sub", "hybrid")
    top = max(p.values())
    pattern = next(option for option in order if p[option] == top)
    latency, rps = c.get("latency_budget_ms"), c.get("peak_rps")
    protocol = None
    if pattern in ("request-response", "hybrid"):
        rest = 1 + (4 if c.get("external_clients") is True else 0)
        grpc = (1 if c.get("external_clients") is False else 0) + (3 if latency is not None and latency <= 50 else 0) \
            + (2 if rps is not None and rps >= 1000 else 0) + (4 if c.get("needs_streaming") is True else 0)
        protocol = "grpc" if grpc > rest else "rest"
    broker = None
    if pattern != "request-response":
        b = {"kafka": 0, "rabbitmq": 0, "nats": 0, "pulsar": 0}
        if pattern in ("pub-sub", "hybrid"):
            b["kafka"] += 2; b["pulsar"] += 1; b["nats"] += 1  # noqa: E702
        if rps is not None and rps >= 5000:
            b["kafka"] += 3; b["pulsar"] += 2  # noqa: E702
        if pattern == "queue":
            b["rabbitmq"] += 3; b["nats"] += 1  # noqa: E702
        if latency is not None and latency <= 20:
            b["nats"] += 3
        default = "rabbitmq" if pattern == "queue" else "kafka"
        top = max(b.values())
        broker = default if b[default] == top else next(k for k, v in b.items() if v == top)
    return pattern, protocol, broker


def rate(function, questions) -> float:
    """Evaluations per second; results are dropped as they come, as a re-evaluation writes them out."""
    gc.collect()
    started = time.perf_counter()
    for question in questions:
        function(question)
    return len(questions) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--vectors", type=int, default=300,
                        help="distinct criteria answer sets the interactions draw from (0: all distinct)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as var_dir:
        setup(var_dir)
        run(args)


def run(args) -> None:
    for vectors in dict.fromkeys([args.vectors, 0]):
        measure(args, vectors)


def measure(args, vectors: int) -> None:
    from decisions.recommendations import ruleset_current
    from decisions.rules import evaluate

    clear()
    populate(args.interactions, args.seed, vectors)
    questions = load_questions()
    ruleset = ruleset_current()
    ruleset._memo.clear()
    ruleset._decisions.clear()
    distinct = len({(tuple(sorted(q.criteria.items())), q.count, q.declared_style) for q in questions})

    cold = rate(lambda q: evaluate(ruleset, q), questions)
    warm = rate(lambda q: evaluate(ruleset, q), questions)
    chain = rate(lambda q: if_chain(q.criteria, q.count), questions)
    disagree = sum((r["pattern"], r["protocol"], r["broker"]) != if_chain(q.criteria, q.count)
                   for q in questions for r in [evaluate(ruleset, q)])

    print(f"\n{len(questions)} stored interactions, {distinct} distinct facts vectors "
          f"(criteria drawn from {vectors or 'no'} shared answer sets), ruleset {ruleset.version}")
    print(f"engine, cold memo:  {cold:>10,.0f} evaluations/s")
    print(f"engine, warm memo:  {warm:>10,.0f} evaluations/s  (goal >= 50,000)")
    print(f"hand-written ifs:   {chain:>10,.0f} evaluations/s  (scores and picks only, no sentences)")
    print(f"engine / ifs:       cold {cold / chain:.2f}x, warm {warm / chain:.2f}x; "
          f"results that differ from the ifs: {disagree}")
    clear()


if __name__ == "__main__":
    main()
