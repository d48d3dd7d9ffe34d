"""What a report covers: the whole system, one team, or one service and its neighbours within some hops.

Read from query parameters (the download API) or from a JSON body (the PDF job); bad input raises
core.errors.Invalid (422) with a pointer per problem: the parameter's name for a query, a JSON
pointer for a body. Names are checked against the registry.
"""
from dataclasses import dataclass
from typing import Literal

from core.errors import Invalid
from core.inputs import shown
from topology.models import Service, Team
from topology.rendering import MAX_HOPS, View

ScopeKind = Literal["system", "team", "service"]
KINDS: tuple[str, ...] = ("system", "team", "service")
HOPS_MESSAGE = f"hops must be a whole number from 1 to {MAX_HOPS}"
BODY_KEYS = {"team": "team", "service": "service", "hops": "service"}  # the scope each key of a body belongs to


@dataclass(frozen=True)
class ReportScope:
    kind: ScopeKind = "system"
    team: str = ""
    service: str = ""
    hops: int = 1

    @property
    def label(self) -> str:
        """'whole system', 'team commerce', 'orders and neighbours within 2 hops'."""
        if self.kind == "team":
            return f"team {self.team}"
        if self.kind == "service":
            return f"{self.service} and neighbours within {self.hops} hop{'' if self.hops == 1 else 's'}"
        return "whole system"


def scope_view(scope: ReportScope) -> View:
    """The topology page's view of a scope: a team with its direct neighbours, a service's neighbourhood."""
    if scope.kind == "team":
        return View(team=scope.team)
    return View(focus=scope.service, hops=scope.hops) if scope.kind == "service" else View()


def scope_from_query(params) -> ReportScope:
    """?team=<slug>, or ?service=<name>[&hops=1..6], or neither (the whole system)."""
    team, service, raw_hops = (params.get(key) or "" for key in ("team", "service", "hops"))
    errors = []
    if team and service:
        errors.append(_error("team", "give team or service, not both"))
    if raw_hops and not service:
        errors.append(_error("hops", "hops applies only with service"))
    hops = _hops(raw_hops or 1)
    if hops is None:
        errors.append(_error("hops", HOPS_MESSAGE))
    return _checked(_scope_of(team, service, hops or 1), errors, where=lambda key: key)


def scope_from_body(data) -> ReportScope:
    """{} or {"scope": "system"}; {"scope": "team", "team": slug}; {"scope": "service", "service": name,
    "hops": 1..6}. Other keys are left to the caller."""
    if not isinstance(data, dict):
        raise Invalid([_error("", "the body must be a JSON object")])
    kind = data.get("scope", "system")
    if kind not in KINDS:
        raise Invalid([_error("/scope", f"scope must be one of {', '.join(KINDS)}, not {shown(kind)}")])
    errors = [_error(f"/{key}", f"{key} applies only with scope {needs!r}")
              for key, needs in BODY_KEYS.items() if key in data and kind != needs]
    if kind != "system" and not _text(data.get(kind)):
        errors.append(_error(f"/{kind}", f"{kind} is required with scope {kind!r}, as a name"))
    hops = _hops(data.get("hops", 1), strict=True)
    if hops is None:
        errors.append(_error("/hops", HOPS_MESSAGE))
    scope = ReportScope(kind=kind, team=_text(data.get("team")), service=_text(data.get("service")), hops=hops or 1)
    return _checked(scope, errors, where=lambda key: f"/{key}")


def _scope_of(team: str, service: str, hops: int) -> ReportScope:
    if service:
        return ReportScope(kind="service", service=service, hops=hops)
    return ReportScope(kind="team", team=team) if team else ReportScope()


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _hops(value: object, *, strict: bool = False) -> int | None:
    """A whole number of hops in range, or None; `strict` (JSON) takes only integers, a query's text too."""
    if strict and (isinstance(value, bool) or not isinstance(value, int)):
        return None
    try:
        hops = int(value)
    except (TypeError, ValueError):
        return None
    return hops if 1 <= hops <= MAX_HOPS else None


def _checked(scope: ReportScope, errors: list[dict], *, where) -> ReportScope:
    """The scope, once its shape is right and the team or service it names exists; else Invalid."""
    if not errors:
        errors = _unknown(scope, where)
    if errors:
        raise Invalid(errors)
    return scope


def _unknown(scope: ReportScope, where) -> list[dict]:
    if scope.kind == "team" and not Team.objects.filter(slug=scope.team).exists():
        return [_error(where("team"), f"no team named {shown(scope.team)}")]
    if scope.kind == "service" and not Service.objects.filter(name=scope.service).exists():
        return [_error(where("service"), f"no service named {shown(scope.service)}")]
    return []


def _error(pointer: str, message: str) -> dict:
    return {"pointer": pointer, "message": message}
