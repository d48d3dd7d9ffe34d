"""Generated systems for the benches and for trying the topology page.

`populate`: the generated system of bench/topology.py for the other benches. That file is loaded by
its path: `topology` is also the name of the Django app. `populate_teams`: a system of teams of
uneven size whose calls mostly stay within a team (see its text)."""
import importlib.util
import random
from pathlib import Path


def populate(services: int, interactions: int) -> None:
    spec = importlib.util.spec_from_file_location("bench_topology", Path(__file__).resolve().parent / "topology.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.populate(services, interactions)


BIG_TEAMS = 4
DOMAINS = ["payments", "checkout", "catalog", "search", "identity", "shipping", "pricing", "inventory", "orders",
           "billing", "ledger", "fraud", "notify", "reviews", "media", "loyalty", "partners", "support",
           "analytics", "ads", "tax", "returns", "maps", "accounts"]
NOUNS = ["api", "gateway", "worker", "store", "index", "sync", "router", "scheduler", "ledger", "reader",
         "writer", "cache", "auth", "export", "import", "rules", "pricer", "matcher", "feed", "audit", "quota",
         "session", "profile", "webhook", "batch", "stream", "planner", "tracker", "resolver", "renderer"]
EVENTS = ["created", "updated", "deleted", "settled", "failed", "changed", "expired", "shipped", "scored"]
EXTERNAL = ["ext-card-network", "ext-sms-provider", "ext-geo-api", "ext-tax-service", "ext-mail-relay"]
# (style, share): 45% REST, 20% gRPC, 20% topics, 15% queues
STYLE_MIX = [("rest", 45), ("grpc", 20), ("pubsub", 20), ("queue", 15)]


def _team_sizes(rng, services: int, teams: int) -> list[int]:
    """Uneven team sizes summing to `services`: BIG_TEAMS big ones of about 5.5% of the services each,
    the rest drawn between a third and twice their mean share."""
    big = [round(services * 0.055)] * min(BIG_TEAMS, teams)
    rest = teams - len(big)
    weights = [rng.uniform(0.35, 2.0) for _ in range(rest)]
    left = services - sum(big)
    sizes = [max(3, round(left * weight / sum(weights))) for weight in weights]
    sizes[-1] += left - sum(sizes)
    return big + sizes


def teams_specs(services: int = 1016, interactions: int = 5000, teams: int = 40, across: float = 0.3,
                seed: int = 16):
    """The registrations of a system of teams of uneven size (pure: ServiceSpecs, no database).

    - `teams` teams: BIG_TEAMS big ones named big-00.. (about 56 services each at 1,016), then teams
      named after a domain (payments, checkout, ...) and, past those words, team-NN; sizes between a
      third and twice the mean of the rest. Services are named <team>-<noun>[-n].
    - `interactions` interactions, one InteractionSpec each: their sources are skewed (a few busy
      services, a long tail), their targets are of the source's own team with probability 1 - `across`
      and of another team otherwise, preferring services already called (hubs form, as in real systems).
    - Styles: 45% REST, 20% gRPC (sync), 20% pub/sub on a topic named <source>.<event> with one to three
      consumers (kafka), 15% queue sends to <target>.jobs (rabbitmq; several producers may share one).
    - Each of the first 8 teams has a sync chain of five services of its own; 6 cycles of three
      services cross two teams each; 5 external placeholders (ext-*) are called by a few services.
    Deterministic for a seed."""
    from topology.manifest import InteractionSpec, ServiceSpec

    rng = random.Random(seed)
    words = iter(DOMAINS)
    names = [f"big-{index:02d}" for index in range(min(BIG_TEAMS, teams))]
    names += [next(words, None) or f"team-{index:02d}" for index in range(len(names), teams)]
    members: dict[str, list[str]] = {}
    for team, size in zip(names, _team_sizes(rng, services, teams)):
        taken = set()
        for position in range(size):
            noun = NOUNS[position % len(NOUNS)] if position < len(NOUNS) else rng.choice(NOUNS)
            name, extra = f"{team}-{noun}", 2
            while name in taken:
                name, extra = f"{team}-{noun}-{extra}", extra + 1
            taken.add(name)
        members[team] = sorted(taken, key=lambda n: (len(n), n))
    team_of = {service: team for team, found in members.items() for service in found}
    every = list(team_of)
    busy = {service: rng.lognormvariate(0, 0.8) for service in every}  # how often a service calls out
    called = {service: rng.lognormvariate(0, 1.1) for service in every}  # how often a service is called
    calls: dict[str, list] = {service: [] for service in every}
    styles, shares = zip(*STYLE_MIX)
    counter = iter(range(10 ** 9))

    def add(source: str, targets: tuple[str, ...], style: str) -> None:
        index = next(counter)
        channel = broker = ""
        if style == "pubsub":
            channel, broker = f"{source}.{rng.choice(EVENTS)}", "kafka"
        elif style == "queue":
            channel, broker = f"{targets[0]}.jobs", "rabbitmq"
        calls[source].append(InteractionSpec(name=f"i{index}", targets=targets, style=style, channel=channel,
                                             broker=broker))

    def target_for(source: str) -> str:
        team = team_of[source]
        pool = members[team] if rng.random() >= across or len(members) == 1 else members[
            rng.choice([other for other in names if other != team])]
        pool = [service for service in pool if service != source] or [service for service in every if service != source]
        return rng.choices(pool, weights=[called[service] for service in pool])[0]

    for team in names[:8]:  # sync chains within a team
        chain = members[team][:5]
        for source, target in zip(chain, chain[1:]):
            add(source, (target,), "rest" if len(calls[source]) % 2 == 0 else "grpc")
    for index in range(6):  # cycles of three across two teams
        first, second = names[(index * 5) % teams], names[(index * 5 + 3) % teams]
        ring = [members[first][-1 - index % len(members[first])], members[second][-1 - index % len(members[second])],
                members[first][-2 - index % (len(members[first]) - 1)]]
        for source, target in zip(ring, ring[1:] + ring[:1]):
            add(source, (target,), "grpc")
    for external in EXTERNAL:
        for source in rng.sample(every, 4):
            add(source, (external,), "rest")
    sources = rng.choices(every, weights=[busy[service] for service in every], k=max(0, interactions - next(counter)))
    for source in sources:
        style = rng.choices(styles, weights=shares)[0]
        count = rng.choice([1, 1, 2, 3]) if style == "pubsub" else 1
        targets = tuple(dict.fromkeys(target_for(source) for _ in range(count)))
        add(source, targets, style)
    return [ServiceSpec(name=service, team=team_of[service], interactions=tuple(calls[service])) for service in every]


def populate_teams(services: int = 1016, interactions: int = 5000, teams: int = 40, across: float = 0.3,
                   seed: int = 16) -> None:
    """Register the system of `teams_specs` (same arguments) in the current database, 500 services a
    registration, and create its teams. Unlike `populate` (teams of equal size, targets at random, so
    nearly every call crosses teams), most calls stay within a team, as in the systems the team and
    focus views of the topology page are for."""
    from core.actors import actor_for_cli
    from topology.models import Team
    from topology.registration import registration_apply

    specs = teams_specs(services, interactions, teams, across, seed)
    Team.objects.bulk_create([Team(slug=slug, name=slug) for slug in dict.fromkeys(spec.team for spec in specs)],
                             ignore_conflicts=True)
    for start in range(0, len(specs), 500):
        registration_apply(specs=specs[start:start + 500], actor=actor_for_cli())
