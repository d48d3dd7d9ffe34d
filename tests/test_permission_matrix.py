"""The permission matrix: every write operation of the API and of the pages, for every kind of actor.

Each cell (operation x actor) sends one request into the same small world and asserts the outcome the
matrix gives: allowed cells answer 2xx/3xx and change something (a row, or a task sent); denied cells
answer a refusal (401, 403, 404; a page's sign-in redirect; or the refusal the operation documents)
and change NOTHING: every table's row count and a digest of every table's rows are the same before and
after. `test_every_write_route_is_in_the_matrix` walks Django's URL resolver and the OpenAPI schema, so
a write route that is added without a row here fails the suite.

The world is built once per module inside a transaction that is rolled back at the end; each cell runs
in a savepoint of it (pytest-django's `db`), so a cell that writes leaves nothing for the next one.

`scripts/permission_matrix.py` prints the table of docs/security.md from OPERATIONS and ACTORS below.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import pytest

ACTORS = ("staff", "maintainer", "other-maintainer", "viewer", "anonymous", "token", "other-token", "revoked-token")
ACTOR_NOTES = {
    "staff": "an administrator (is_staff), member of no team",
    "maintainer": "a maintainer of commerce, the team that owns what is written",
    "other-maintainer": "a maintainer of identity, another team",
    "viewer": "a viewer of commerce",
    "anonymous": "not signed in, no token",
    "token": "an API token of commerce",
    "other-token": "an API token of identity",
    "revoked-token": "a revoked API token of commerce",
}

# Who may, in a few words. Pages authenticate sessions only: a token sent to a page is ignored, so token
# actors on pages are anonymous (sent to sign in).
OWNER = frozenset({"staff", "maintainer", "token"})              # writes the owning team's registry
OWNER_PEOPLE = frozenset({"staff", "maintainer"})                # ... but not with a token (members)
STAFF = frozenset({"staff"})
SIGNED_IN = frozenset({"staff", "maintainer", "other-maintainer", "viewer", "token", "other-token"})
ANY_MAINTAINER = frozenset({"staff", "maintainer", "other-maintainer", "token", "other-token"})
PAGE_OWNER = OWNER_PEOPLE
PAGE_SIGNED_IN = frozenset({"staff", "maintainer", "other-maintainer", "viewer"})
PAGE_ANY_MAINTAINER = frozenset({"staff", "maintainer", "other-maintainer"})

REFUSED = frozenset({401, 403, 404})


@dataclass(frozen=True)
class Op:
    """One write operation. `path` is a template of the world's names ({service}, {channel}, ...)."""

    surface: str  # "api" or "ui"
    method: str
    path: str
    area: str
    allowed: frozenset
    why: str
    body: Callable | dict | str | None = None  # a value, or a function of the world
    fmt: str = "json"  # json, yaml, form, multipart
    kind: str = "write"  # "read": a POST that must write nothing even when allowed
    variant: str = ""
    query: str = ""  # sent with the path, not part of the operation's name
    refusals: frozenset = REFUSED  # statuses that count as a refusal for this operation
    settings: dict = field(default_factory=dict)
    before: Callable | None = None  # world -> extra body fields, run just before the request (e.g. a stash)
    xfail: dict = field(default_factory=dict)  # actor -> reason (strict: the day it passes, the mark goes)

    @property
    def name(self) -> str:
        return f"{self.surface}:{self.method} {self.path}" + (f" ({self.variant})" if self.variant else "")

    def expected(self, actor: str) -> bool:
        return actor in self.allowed


def _later(hours: int) -> str:
    from django.utils import timezone
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def _local(hours: int) -> str:
    from django.utils import timezone
    return timezone.localtime(timezone.now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def _manifest(world) -> str:
    return json.dumps({"apiVersion": "switchboard/v1", "kind": "Service",
                       "metadata": {"name": "checkout", "team": "commerce", "title": "Checkout, registered again"},
                       "spec": {"interactions": [{"name": "pay", "to": ["payments"], "style": "rest"},
                                                 {"name": "notify", "to": ["mailer"], "style": "rest"}],
                                "probes": [{"name": "health", "type": "tcp", "target": "127.0.0.1:9"}]}})


BACKSTAGE = ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: basket}\n"
             "spec: {type: service, owner: commerce, lifecycle: production}\n")
ASYNCAPI = ("asyncapi: '2.4.0'\ninfo: {title: Basket Events, version: 1.0.0}\nservers:\n"
            "  prod: {url: kafka.internal:9092, protocol: kafka}\nchannels:\n  basket.changed:\n    publish:\n"
            "      operationId: onBasketChanged\n      message: {payload: {type: object}}\n")
DEPENDENCIES = json.dumps([{"parent": "checkout", "child": "payments", "callCount": 12},
                           {"parent": "checkout", "child": "ledger", "callCount": 3}])
RULE = {"slug": "house-rule", "title": "House rule", "decides": "pattern",
        "condition": 'operation == "notification" and targets > 1', "effects": {"request-response": 20},
        "cites": "§5.1", "explanation": "House rule: {source} keeps calling {targets}.", "enabled": True}
RULE_FORM = {**RULE, "effects": "request-response=20", "enabled": "on"}


def _upload(name: str, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile
    return SimpleUploadedFile(name, text.encode(), content_type="application/yaml")


def _stash(prefix: str, value) -> dict:
    """What an import preview keeps in the cache for its confirmation (imports/views.py _stash)."""
    from django.core.cache import cache
    key = f"matrix{prefix}"
    cache.set(f"imports:{prefix}:{key}", value, 300)
    return {"key": key}


API, UI = "api", "ui"
V1 = "/api/v1"
WHY_OWNER = "maintainers of the owning team, its tokens (CI) and staff write a team's registry"
WHY_OWNER_PAGE = "maintainers of the owning team and staff; pages take no tokens"
WHY_MEMBERS = "people manage people: maintainers of the team and staff; a token never changes members"
WHY_STAFF = "the rules apply to every team: administrators only"
WHY_REPORT = "everyone who reads the registry may ask for a report of it (reads only)"
WHY_OBSERVED = "observations are about the whole system: anyone who maintains a team, or its token"
WHY_NOTIFY = "the team's channels, windows and mutes: its maintainers, its tokens and staff; others do not see them (404)"
WHY_NOTIFY_PAGE = "the team's channels, windows and mutes: its maintainers and staff; other teams do not see them (404)"
WHY_PLAN = "maintainers of a team whose interactions the plan changes, its tokens and staff save and remove it"
WHY_FORM_TEAM = "; a maintainer of another team gets the form back (200) with the team refused"

OPERATIONS: tuple[Op, ...] = (
    # --- services, interactions and probes (the registry) ------------------------------------------
    Op(API, "POST", f"{V1}/registrations/", "services", OWNER, WHY_OWNER, _manifest),
    Op(API, "POST", f"{V1}/registrations/", "services", STAFF,
       "moving a service to another team needs both teams: only staff (a maintainer of the new team may not take it)",
       lambda w: _manifest(w).replace('"team": "commerce"', '"team": "identity"'), variant="to another team"),
    Op(API, "PATCH", f"{V1}/services/{{service}}/", "services", STAFF,
       "moving a service to another team needs both teams: only staff (a maintainer of the new team may not take it)",
       {"team": "identity"}, variant="to another team"),
    Op(API, "PUT", f"{V1}/services/{{service}}/", "services", OWNER, WHY_OWNER,
       {"team": "commerce", "title": "Checkout (put)", "lifecycle": "production"}),
    Op(API, "PATCH", f"{V1}/services/{{service}}/", "services", OWNER, WHY_OWNER, {"title": "Checkout (patched)"}),
    Op(API, "DELETE", f"{V1}/services/{{service}}/", "services", OWNER, WHY_OWNER),
    Op(UI, "POST", "/register/", "services", PAGE_OWNER, WHY_OWNER_PAGE + WHY_FORM_TEAM,
       {"name": "basket", "team": "commerce", "lifecycle": "production"}, fmt="form",
       refusals=REFUSED | {200}),
    Op(UI, "POST", "/services/{service}/edit/", "services", PAGE_OWNER, WHY_OWNER_PAGE,
       {"team": "commerce", "title": "Checkout (edited)", "lifecycle": "production"}, fmt="form"),
    Op(UI, "POST", "/services/{service}/delete/", "services", PAGE_OWNER, WHY_OWNER_PAGE, fmt="form"),
    Op(UI, "POST", "/services/{service}/interactions/new/", "interactions", PAGE_OWNER, WHY_OWNER_PAGE,
       {"name": "reserve", "to": "stock", "style": "grpc"}, fmt="form"),
    Op(UI, "POST", "/services/{service}/interactions/{interaction}/edit/", "interactions", PAGE_OWNER,
       WHY_OWNER_PAGE, {"name": "pay", "to": "payments-v2", "style": "rest"}, fmt="form"),
    Op(UI, "POST", "/services/{service}/interactions/{interaction}/delete/", "interactions", PAGE_OWNER,
       WHY_OWNER_PAGE, fmt="form"),
    Op(UI, "POST", "/services/{service}/interactions/{interaction}/what-if/", "interactions", PAGE_SIGNED_IN,
       "a what-if evaluates and stores nothing: everyone signed in", {"criteria_can_defer": "yes"}, fmt="form",
       kind="read"),
    Op(UI, "POST", "/services/{service}/probes/new/", "probes", PAGE_OWNER, WHY_OWNER_PAGE,
       {"name": "disk", "type": "tcp", "target": "127.0.0.1:11", "interval": "1m", "timeout": "3s",
        "locations": ["default"], "details": ""}, fmt="form"),
    Op(UI, "POST", "/services/{service}/probes/{probe}/edit/", "probes", PAGE_OWNER, WHY_OWNER_PAGE,
       {"name": "health", "type": "tcp", "target": "127.0.0.1:12", "interval": "5m", "timeout": "3s",
        "locations": ["default"], "details": ""}, fmt="form"),
    Op(UI, "POST", "/services/{service}/probes/{probe}/delete/", "probes", PAGE_OWNER, WHY_OWNER_PAGE, fmt="form"),
    Op(UI, "POST", "/services/{service}/probes/{probe}/run/", "probes", PAGE_OWNER,
       "probe now spends the team's probe budget: maintainers of the team and staff", fmt="form"),
    Op(API, "POST", f"{V1}/probes/{{probe_id}}/run/", "probes", OWNER,
       "probe now is a CI thing too: the team's maintainers, its tokens and staff"),
    # --- flows -------------------------------------------------------------------------------------------
    Op(API, "POST", f"{V1}/flows/", "flows", OWNER, WHY_OWNER,
       {"slug": "paying", "name": "Paying", "team": "commerce", "steps": [{"interaction": "checkout/pay"}]}),
    Op(API, "PUT", f"{V1}/flows/{{flow}}/", "flows", OWNER, WHY_OWNER,
       {"slug": "buying", "name": "Buying (put)", "team": "commerce", "steps": [{"interaction": "checkout/pay"}]}),
    Op(API, "PATCH", f"{V1}/flows/{{flow}}/", "flows", OWNER, WHY_OWNER, {"name": "Buying (patched)"}),
    Op(API, "DELETE", f"{V1}/flows/{{flow}}/", "flows", OWNER, WHY_OWNER),
    Op(UI, "POST", "/flows/new/", "flows", PAGE_OWNER, WHY_OWNER_PAGE + WHY_FORM_TEAM,
       lambda w: {"slug": "paying", "name": "Paying", "team": w["commerce_id"], "steps": "checkout/pay"},
       fmt="form", refusals=REFUSED | {200}),
    Op(UI, "POST", "/flows/{flow}/edit/", "flows", PAGE_OWNER, WHY_OWNER_PAGE,
       lambda w: {"slug": "buying", "name": "Buying (edited)", "team": w["commerce_id"], "steps": "checkout/pay"},
       fmt="form"),
    Op(UI, "POST", "/flows/{flow}/delete/", "flows", PAGE_OWNER, WHY_OWNER_PAGE, fmt="form"),
    # --- decisions -------------------------------------------------------------------------------------
    Op(API, "POST", f"{V1}/decisions/", "decisions", OWNER, WHY_OWNER,
       {"title": "Queue the receipts", "team": "commerce"}),
    Op(API, "PUT", f"{V1}/decisions/{{number}}/", "decisions", OWNER, WHY_OWNER,
       {"title": "Pay over REST (put)", "team": "commerce", "status": "proposed"}),
    Op(API, "PATCH", f"{V1}/decisions/{{number}}/", "decisions", OWNER, WHY_OWNER, {"title": "Pay over REST (patched)"}),
    Op(API, "DELETE", f"{V1}/decisions/{{number}}/", "decisions", OWNER, WHY_OWNER + " (a proposed decision)"),
    Op(UI, "POST", "/decisions/new/", "decisions", PAGE_OWNER, WHY_OWNER_PAGE + WHY_FORM_TEAM,
       {"title": "Queue the receipts", "status": "proposed", "kind": "general", "team": "commerce"}, fmt="form",
       refusals=REFUSED | {200}),
    Op(UI, "POST", "/decisions/{number}/edit/", "decisions", PAGE_OWNER, WHY_OWNER_PAGE,
       {"title": "Pay over REST (edited)", "status": "proposed", "kind": "general", "team": "commerce",
        "interactions": "checkout/pay"}, fmt="form"),
    Op(API, "POST", f"{V1}/recommendations/evaluate/", "decisions", SIGNED_IN,
       "a what-if evaluates and stores nothing: everyone signed in and every token",
       {"criteria": {"needs_immediate_response": True}, "targets": ["payments"], "source": "checkout"}, kind="read"),
    Op(API, "POST", f"{V1}/plans/evaluate/", "plans", SIGNED_IN,
       "a plan is a what-if over the whole registry and stores nothing: everyone signed in and every token",
       {"changes": [{"interaction": "checkout/pay", "style": "queue", "channel": "payments.requests",
                     "broker": "rabbitmq"}]}, kind="read"),
    Op(UI, "POST", "/plans/", "plans", PAGE_SIGNED_IN,
       "a plan is a what-if over the whole registry and stores nothing: everyone signed in",
       {"interaction_0": "checkout/pay", "style_0": "queue", "channel_0": "payments.requests",
        "broker_0": "rabbitmq"}, fmt="form", kind="read"),
    Op(API, "POST", f"{V1}/plans/", "plans", OWNER, WHY_PLAN,
       {"name": "pay-by-queue-2", "title": "Queue the payments", "changes": [
           {"interaction": "checkout/pay", "style": "queue", "channel": "payments.requests", "broker": "rabbitmq"}]}),
    Op(API, "DELETE", f"{V1}/plans/{{plan}}/", "plans", OWNER, WHY_PLAN),
    Op(API, "POST", f"{V1}/plans/{{plan}}/accept/", "plans", OWNER,
       "accepting drafts decision records of the changed interactions: whoever may write those decisions", {}),
    Op(UI, "POST", "/plans/accept/", "plans", PAGE_OWNER, WHY_PLAN + "; pages take no tokens",
       {"interaction_0": "checkout/pay", "style_0": "queue", "channel_0": "payments.requests",
        "broker_0": "rabbitmq", "name": "pay-by-queue-3", "title": "Queue the payments"}, fmt="form"),
    Op(UI, "POST", "/plans/save/", "plans", PAGE_OWNER, WHY_PLAN + "; pages take no tokens",
       {"interaction_0": "checkout/pay", "style_0": "queue", "channel_0": "payments.requests",
        "broker_0": "rabbitmq", "name": "pay-by-queue-4", "title": "Queue the payments"}, fmt="form"),
    Op(UI, "POST", "/plans/{plan}/accept/", "plans", PAGE_OWNER,
       "accepting drafts decision records of the changed interactions: whoever may write those decisions; "
       "pages take no tokens", {}, fmt="form"),
    Op(UI, "POST", "/plans/{plan}/delete/", "plans", PAGE_OWNER, WHY_PLAN + "; pages take no tokens", {}, fmt="form"),
    # --- rules -----------------------------------------------------------------------------------------
    Op(API, "POST", f"{V1}/rules/", "rules", STAFF, WHY_STAFF, RULE),
    Op(API, "PUT", f"{V1}/rules/{{rule}}/", "rules", STAFF, WHY_STAFF, {**RULE, "slug": "calls-stay", "title": "Put"}),
    Op(API, "PATCH", f"{V1}/rules/{{rule}}/", "rules", STAFF, WHY_STAFF, {"title": "Patched"}),
    Op(API, "DELETE", f"{V1}/rules/{{rule}}/", "rules", STAFF, WHY_STAFF),
    Op(API, "POST", f"{V1}/rules/preview/", "rules", STAFF, WHY_STAFF + " (a preview stores nothing)", RULE,
       kind="read"),
    Op(UI, "POST", "/rules/new/", "rules", STAFF, WHY_STAFF, RULE_FORM, fmt="form"),
    Op(UI, "POST", "/rules/{rule}/", "rules", STAFF, WHY_STAFF, {**RULE_FORM, "slug": "calls-stay", "title": "Edited"},
       fmt="form"),
    Op(UI, "POST", "/rules/{rule}/delete/", "rules", STAFF, WHY_STAFF, fmt="form"),
    Op(UI, "POST", "/rules/preview/", "rules", STAFF, WHY_STAFF + " (a preview stores nothing)", RULE_FORM,
       fmt="form", kind="read"),
    Op(UI, "POST", "/rules/{rule}/preview/", "rules", STAFF, WHY_STAFF + " (a preview stores nothing)",
       {**RULE_FORM, "slug": "calls-stay"}, fmt="form", kind="read"),
    # --- imports ---------------------------------------------------------------------------------------
    Op(API, "POST", f"{V1}/imports/backstage/", "imports", OWNER,
       WHY_OWNER + " (what the documents name)", BACKSTAGE, fmt="yaml", query="team=commerce&source=basket.yaml"),
    Op(API, "POST", f"{V1}/imports/backstage/", "imports", OWNER,
       WHY_OWNER + " (a large import is a job; it must be refused when asked, not when a worker runs it)",
       BACKSTAGE, fmt="yaml", variant="job", query="team=commerce&source=basket.yaml", settings={"IMPORT_INLINE_MAX_BYTES": 10}),
    Op(API, "POST", f"{V1}/imports/asyncapi/", "imports", OWNER,
       WHY_OWNER + " (what the documents name)", ASYNCAPI, fmt="yaml",
       query="team=commerce&source=basket-events.yaml"),
    Op(API, "POST", f"{V1}/imports/dependencies/", "imports", ANY_MAINTAINER, WHY_OBSERVED, DEPENDENCIES),
    Op(UI, "POST", "/imports/preview/", "imports", PAGE_OWNER,
       "a dry run of the import; refused (422, pointers) like the import itself",
       lambda w: {"kind": "backstage", "team": "commerce", "file": _upload("basket.yaml", BACKSTAGE)},
       fmt="multipart", kind="read", refusals=REFUSED | {422}),
    Op(UI, "POST", "/imports/confirm/", "imports", PAGE_OWNER,
       WHY_OWNER_PAGE + " (what the documents name); refused as a 422 with pointers", fmt="form",
       before=lambda w: _stash("catalog", {"kind": "backstage", "team": "commerce", "name": "basket.yaml",
                                           "documents": [("basket.yaml", BACKSTAGE)]}),
       refusals=REFUSED | {422}),
    Op(UI, "POST", "/imports/confirm/", "imports", PAGE_OWNER,
       WHY_OWNER_PAGE + " (a large import is a job; it must be refused when asked, not when a worker runs it)",
       fmt="form", variant="job", settings={"IMPORT_INLINE_MAX_BYTES": 10},
       before=lambda w: _stash("catalog", {"kind": "backstage", "team": "commerce", "name": "basket.yaml",
                                           "documents": [("basket.yaml", BACKSTAGE)]}),
       refusals=REFUSED | {422}),
    Op(UI, "POST", "/drift/preview/", "imports", PAGE_ANY_MAINTAINER, WHY_OBSERVED + " (a preview stores nothing)",
       lambda w: {"file": _upload("deps.json", DEPENDENCIES)}, fmt="multipart", kind="read"),
    Op(UI, "POST", "/drift/confirm/", "imports", PAGE_ANY_MAINTAINER, WHY_OBSERVED, fmt="form",
       before=lambda w: _stash("dependencies", DEPENDENCIES)),
    # --- reports ---------------------------------------------------------------------------------------
    Op(API, "POST", f"{V1}/reports/", "reports", SIGNED_IN, WHY_REPORT, {"scope": "team", "team": "commerce"}),
    Op(UI, "POST", "/reports/new/", "reports", PAGE_SIGNED_IN, WHY_REPORT, {"scope": "team", "team": "commerce"},
       fmt="form"),
    # --- teams, members and tokens ----------------------------------------------------------------------
    Op(API, "POST", f"{V1}/teams/{{team}}/members/", "members", OWNER_PEOPLE, WHY_MEMBERS,
       {"username": "nina", "role": "viewer"}),
    Op(API, "PATCH", f"{V1}/teams/{{team}}/members/{{member}}/", "members", OWNER_PEOPLE, WHY_MEMBERS,
       {"role": "maintainer"}),
    Op(API, "DELETE", f"{V1}/teams/{{team}}/members/{{member}}/", "members", OWNER_PEOPLE, WHY_MEMBERS),
    Op(UI, "POST", "/teams/{team}/members/", "members", PAGE_OWNER, WHY_MEMBERS,
       {"member-username": "nina", "member-role": "viewer"}, fmt="form"),
    Op(UI, "POST", "/teams/{team}/members/{member}/role/", "members", PAGE_OWNER, WHY_MEMBERS,
       {"role": "maintainer"}, fmt="form"),
    Op(UI, "POST", "/teams/{team}/members/{member}/remove/", "members", PAGE_OWNER, WHY_MEMBERS, fmt="form"),
    Op(UI, "POST", "/teams/{team}/tokens/", "tokens", PAGE_OWNER,
       "tokens are handed out by people: maintainers of the team and staff", {"name": "deploy"}, fmt="form"),
    Op(UI, "POST", "/teams/{team}/tokens/{token_id}/revoke/", "tokens", PAGE_OWNER,
       "maintainers of the team and staff", fmt="form"),
    # --- notifications ---------------------------------------------------------------------------------
    Op(API, "POST", f"{V1}/channels/", "notifications", OWNER, WHY_NOTIFY,
       {"team": "commerce", "name": "pager", "kind": "email", "addresses": ["pager@example.com"],
        "events": ["probe.down"]}),
    Op(API, "PATCH", f"{V1}/channels/{{channel}}/", "notifications", OWNER, WHY_NOTIFY, {"name": "oncall-renamed"}),
    Op(API, "DELETE", f"{V1}/channels/{{channel}}/", "notifications", OWNER, WHY_NOTIFY),
    Op(API, "POST", f"{V1}/channels/{{channel}}/test/", "notifications", OWNER, WHY_NOTIFY),
    Op(API, "POST", f"{V1}/notifications/deliveries/{{delivery}}/resend/", "notifications", OWNER, WHY_NOTIFY),
    Op(API, "POST", f"{V1}/maintenance-windows/", "notifications", OWNER, WHY_NOTIFY,
       lambda w: {"starts_at": _later(1), "ends_at": _later(3), "services": ["checkout"], "reason": "upgrade"}),
    Op(API, "DELETE", f"{V1}/maintenance-windows/{{window}}/", "notifications", OWNER, WHY_NOTIFY),
    Op(API, "POST", f"{V1}/probe-mutes/", "notifications", OWNER, WHY_NOTIFY,
       {"probe": "checkout/health", "reason": "known"}),
    Op(API, "DELETE", f"{V1}/probe-mutes/{{mute}}/", "notifications", OWNER, WHY_NOTIFY),
    Op(UI, "POST", "/notifications/", "notifications", PAGE_OWNER, WHY_NOTIFY_PAGE + WHY_FORM_TEAM,
       lambda w: {"team": w["commerce_id"], "name": "pager", "kind": "email", "addresses": "pager@example.com",
                  "events": ["probe.down"], "min_severity": "warning", "chain_depth": 3, "enabled": "on"},
       fmt="form", refusals=REFUSED | {200, 422}),
    Op(UI, "POST", "/notifications/channels/{channel}/", "notifications", PAGE_OWNER, WHY_NOTIFY_PAGE,
       lambda w: {"team": w["commerce_id"], "name": "oncall-renamed", "kind": "email",
                  "addresses": "oncall@example.com", "events": ["probe.down"], "min_severity": "warning",
                  "chain_depth": 3, "enabled": "on"}, fmt="form"),
    Op(UI, "POST", "/notifications/channels/{channel}/test/", "notifications", PAGE_OWNER, WHY_NOTIFY_PAGE, fmt="form"),
    Op(UI, "POST", "/notifications/channels/{channel}/delete/", "notifications", PAGE_OWNER, WHY_NOTIFY_PAGE, fmt="form"),
    Op(UI, "POST", "/notifications/deliveries/{delivery}/resend/", "notifications", PAGE_OWNER, WHY_NOTIFY_PAGE,
       fmt="form"),
    Op(UI, "POST", "/notifications/windows/", "notifications", PAGE_OWNER, WHY_NOTIFY_PAGE + WHY_FORM_TEAM,
       lambda w: {"services": [w["checkout_id"]], "starts_at": _local(1), "ends_at": _local(3), "reason": "upgrade"},
       fmt="form", refusals=REFUSED | {200, 422}),
    Op(UI, "POST", "/notifications/windows/{window}/delete/", "notifications", PAGE_OWNER, WHY_NOTIFY_PAGE, fmt="form"),
    Op(UI, "POST", "/notifications/mutes/", "notifications", PAGE_OWNER, WHY_NOTIFY_PAGE + WHY_FORM_TEAM,
       lambda w: {"probe": w["health_id"], "reason": "known"}, fmt="form", refusals=REFUSED | {200, 422}),
    Op(UI, "POST", "/notifications/mutes/{mute}/delete/", "notifications", PAGE_OWNER, WHY_NOTIFY_PAGE, fmt="form"),
)

# Routes that accept a non-GET method and are not in the matrix, with the reason. A POST to one of the
# read pages is answered like a GET; test_read_pages_write_nothing_when_posted_to proves it.
READ_PAGES = (
    "/", "/criteria/", "/decisions/", "/decisions/{number}/", "/teams/", "/teams/{team}/",
    "/services/", "/services/{service}/", "/interactions/", "/services/{service}/interactions/{interaction}/",
    "/topology/", "/flows/", "/flows/derive/", "/flows/{flow}/", "/probes/", "/services/{service}/probes/{probe}/",
    "/services/{service}/probes/{probe}/run/status/",
    "/reports/", "/reports/preview/", "/reports/{report}/", "/reports/{report}/progress/",
    "/reports/{report}/report.pdf", "/imports/", "/imports/jobs/{job}/progress/", "/drift/", "/rules/",
    "/notifications/",  # only its POST is a write, and that is in the matrix
)
EXEMPT = {
    ("POST", "accounts/login/"): "signing in writes a session, not the registry (django-axes guards it)",
    ("PUT", "accounts/login/"): "Django's LoginView answers PUT like POST: signing in",
    ("POST", "accounts/logout/"): "signing out",
}
EXEMPT_PREFIXES = {
    "admin/": "the Django admin: staff only, checked by Django's own permissions (model by model)",
}

DUMMY = {"service": "x", "interaction": "y", "probe": "z", "probe_id": "1", "flow": "f", "number": "1",
         "rule": "r", "team": "t", "member": "m", "token_id": "1", "channel": "1", "delivery": "1", "window": "1",
         "mute": "1", "report": "1", "job": "1", "plan": "p"}


def path_filled(template: str, values: dict) -> str:
    return template.format(**{key: values[key] for key in DUMMY})


def cell_id(op: Op, actor: str) -> str:
    return f"{op.name}:{actor}"


def cells():
    for op in OPERATIONS:
        for actor in ACTORS:
            marks = []
            if actor in op.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=op.xfail[actor]))
            yield pytest.param(op, actor, id=cell_id(op, actor), marks=marks)


# --- the world ---------------------------------------------------------------------------------------

def world_build() -> dict:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from core.actors import actor_for_cli
    from decisions.models import CustomRule
    from decisions.services import decision_create
    from notifications import events as outbox
    from notifications import services as notify
    from plans.services import plan_save
    from notifications.models import Delivery
    from probes.models import Probe
    from tests.factories import register, service_doc
    from topology.choices import TeamRole
    from topology.flows import flow_save
    from topology.models import Interaction, Team, TeamMembership
    from topology.services import token_create, token_revoke

    cli = actor_for_cli()
    commerce = Team.objects.create(slug="commerce", name="Commerce")
    identity = Team.objects.create(slug="identity", name="Identity")
    users = {"staff": User.objects.create_user("root", is_staff=True)}
    for key, name, team, role in [("maintainer", "maria", commerce, TeamRole.MAINTAINER),
                                  ("other-maintainer", "olga", identity, TeamRole.MAINTAINER),
                                  ("viewer", "victor", commerce, TeamRole.VIEWER),
                                  ("member", "mike", commerce, TeamRole.VIEWER)]:
        users[key] = User.objects.create_user(name)
        TeamMembership.objects.create(team=team, user=users[key], role=role)
    User.objects.create_user("nina")  # in no team: the one the member forms add
    tokens = {"token": token_create(actor=cli, team=commerce, name="ci")[1],
              "other-token": token_create(actor=cli, team=identity, name="ci")[1]}
    old, tokens["revoked-token"] = token_create(actor=cli, team=commerce, name="old")
    token_revoke(actor=cli, token=old)
    spare = token_create(actor=cli, team=commerce, name="spare")[0]

    register(service_doc("payments", team="identity"),
             service_doc("checkout", interactions=[{"name": "pay", "to": ["payments"], "style": "rest"}],
                         probes=[{"name": "health", "type": "tcp", "target": "127.0.0.1:9"},
                                 {"name": "ping", "type": "tcp", "target": "127.0.0.1:10"}]))
    pay = Interaction.objects.get(source__name="checkout", name="pay")
    health, ping = Probe.objects.get(name="health"), Probe.objects.get(name="ping")
    flow = flow_save(actor=cli, flow=None, slug="buying", name="Buying", team=commerce,
                     steps=[{"interaction": "checkout/pay", "label": ""}])
    decision = decision_create(actor=cli, title="Pay over REST", team=commerce, interactions=[pay])
    CustomRule.objects.create(slug="calls-stay", title="Calls stay", decides="pattern",
                              condition='operation == "notification"', effects={"request-response": 5},
                              cites="§5.1", explanation="Calls stay for {source}.", written_by="matrix")
    channel = notify.channel_create(actor=cli, team=commerce, values={
        "name": "oncall", "kind": "email", "addresses": ["oncall@example.com"], "events": ["probe.down"]})
    event = outbox.event_write(type="probe.down", summary="checkout/health is down", url="", details={},
                               teams=["commerce"], service="checkout")
    delivery = Delivery.objects.get(event=event, channel=channel)
    Delivery.objects.filter(pk=delivery.pk).update(status="failed")
    now = timezone.now()
    window = notify.window_create(actor=cli, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2),
                                  services=["checkout"], reason="planned")
    mute = notify.probe_mute_set(actor=cli, probe=ping, until=None, reason="flaky")
    plan = plan_save(actor=cli, name="pay-by-queue", title="Queue the payments", body={"changes": [
        {"interaction": "checkout/pay", "style": "queue", "channel": "payments.requests", "broker": "rabbitmq"}]})
    return {
        "users": {key: user.pk for key, user in users.items()}, "tokens": tokens,
        "commerce_id": commerce.pk, "checkout_id": pay.source_id, "health_id": health.pk,
        "names": {"service": "checkout", "interaction": "pay", "probe": "health", "probe_id": str(health.pk),
                  "flow": flow.slug, "number": str(decision.number), "rule": "calls-stay", "team": "commerce",
                  "member": "mike", "token_id": str(spare.pk), "channel": str(channel.pk),
                  "delivery": str(delivery.pk), "window": str(window.pk), "mute": str(mute.pk),
                  "report": "1", "job": "1", "plan": plan.name},
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world of every cell, built once in a transaction that is rolled back after the module."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield world_build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def sent(monkeypatch):
    """What the cell sent instead of writing rows: probe runs queued, deliveries queued."""
    import notifications.delivery
    import probes.services

    calls = []
    monkeypatch.setattr(probes.services, "runs_send", lambda **kwargs: calls.append(("probe run", kwargs)))
    monkeypatch.setattr(notifications.delivery, "deliveries_queue",
                        lambda **kwargs: calls.append(("delivery queued", kwargs)))
    return calls


# --- what changed ---------------------------------------------------------------------------------------

VOLATILE = {"topology.apitoken": {"last_used_at"}}  # a token's use is recorded, refused or not
NOT_DIGESTED = {"sessions.session"}  # signing in (force_login) writes it; the row count is still compared


def tables() -> list[tuple[str, str]]:
    """(model label, SELECT of its rows in primary key order) of every table, volatile columns left out."""
    from django.apps import apps
    from django.db import connection

    if not _TABLES:
        quote = connection.ops.quote_name
        found = []
        for model in apps.get_models(include_auto_created=True):
            if not model._meta.managed or model._meta.proxy:
                continue
            label = model._meta.label_lower
            drop = VOLATILE.get(label, ())
            columns = [f.column for f in model._meta.local_concrete_fields if f.name not in drop]
            pk = model._meta.pk.column  # None for a composite primary key: then every column orders
            order = quote(pk) if pk else ", ".join(str(n) for n in range(1, len(columns) + 1))
            found.append((label, f"SELECT {', '.join(map(quote, columns))} FROM {quote(model._meta.db_table)} "
                                 f"ORDER BY {order}"))
        _TABLES.extend(found)
    return _TABLES


_TABLES: list[tuple[str, str]] = []


def state() -> dict[str, tuple[int, str]]:
    """Every table: (row count, digest of its rows)."""
    from django.db import connection

    result = {}
    with connection.cursor() as cursor:
        for label, select in tables():
            cursor.execute(select)
            rows = cursor.fetchall()
            result[label] = (len(rows), "" if label in NOT_DIGESTED else hashlib.sha256(repr(rows).encode()).hexdigest())
    return result


def changes(before: dict, after: dict) -> list[str]:
    return [f"{label}: {before.get(label, (0, ''))[0]} -> {after[label][0]} rows"
            + ("" if before.get(label, (0, ""))[1] == after[label][1] else ", rows changed")
            for label in after if before.get(label) != after[label]]


# --- the cells ---------------------------------------------------------------------------------------

def client_for(surface: str, actor: str, world: dict):
    from django.contrib.auth.models import User
    from django.test import Client
    from rest_framework.test import APIClient

    client = APIClient() if surface == API else Client(enforce_csrf_checks=False)
    if actor in world["tokens"]:  # pages ignore tokens: the header is sent there too and signs no one in
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world['tokens'][actor]}"
    elif actor != "anonymous":
        client.force_login(User.objects.get(pk=world["users"][actor]))
    return client


def send(op: Op, client, world: dict):
    body = op.body(world) if callable(op.body) else op.body
    if op.before:
        body = {**(body or {}), **op.before(world)}
    path = path_filled(op.path, world["names"]) + (f"?{op.query}" if op.query else "")
    method = getattr(client, op.method.lower())
    if op.fmt == "json":
        data = body if body is None or isinstance(body, str) else json.dumps(body)
        return method(path, data, content_type="application/json")
    if op.fmt == "yaml":
        return method(path, body, content_type="application/yaml")
    return method(path, body or {})  # form or multipart: the test client encodes files as multipart


def is_sign_in(response) -> bool:
    from django.conf import settings
    from django.shortcuts import resolve_url
    return response.status_code == 302 and response["Location"].startswith(resolve_url(settings.LOGIN_URL))


@pytest.mark.parametrize("op,actor", list(cells()))
def test_permission_matrix(op, actor, world, db, sent, settings):
    for name, value in op.settings.items():
        setattr(settings, name, value)
    client = client_for(op.surface, actor, world)
    before = state()
    response = send(op, client, world)
    after = state()
    changed = changes(before, after)
    detail = f"{response.status_code} {response.get('Location', '')} {response.content[:300]!r}; changed: {changed}; sent: {sent}"
    if op.expected(actor):
        assert 200 <= response.status_code < 400 and not is_sign_in(response), detail
        if op.kind == "write":
            assert changed or sent, f"allowed but nothing was written: {detail}"
        else:
            assert not changed and not sent, f"a read wrote: {detail}"
    else:
        assert is_sign_in(response) or response.status_code in op.refusals, detail
        assert not changed and not sent, f"refused but something changed: {detail}"


# --- nothing is forgotten --------------------------------------------------------------------------------

def write_routes() -> set[tuple[str, str]]:
    """(METHOD, route) of every route that accepts a method other than GET, HEAD and OPTIONS."""
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + _segment(pattern))
            else:
                yield prefix + _segment(pattern), pattern.callback

    found = set()
    for route, callback in walk(get_resolver().url_patterns):
        if "(?P<format>" in route or "<drf_format_suffix:format>" in route:
            continue  # DRF's format suffixes: the same view and action as the route without one
        for method in methods_of(callback):
            found.add((method, route))
    return found


def _segment(pattern) -> str:
    """A pattern's part of the route, joined as ResolverMatch.route joins it (a leading ^ dropped)."""
    text = str(pattern.pattern)
    return text[1:] if text.startswith("^") else text


def methods_of(callback) -> set[str]:
    safe = {"GET", "HEAD", "OPTIONS", "TRACE"}
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route
        return {method.upper() for method in actions} - safe
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return {method.upper() for method in view_class.http_method_names if hasattr(view_class, method)} - safe
    declared = _declared_methods(callback)  # require_POST, require_GET, require_http_methods
    return (declared if declared is not None else {"POST"}) - safe  # a plain function view may take a POST


def _declared_methods(function) -> set[str] | None:
    while function is not None:
        for cell in function.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, (list, tuple)) and value and all(
                    isinstance(item, str) and item.isupper() for item in value):
                return set(value)
        function = getattr(function, "__wrapped__", None)
    return None


def route_of(path: str) -> str:
    from django.urls import resolve
    return resolve(path_filled(path, DUMMY).split("?")[0]).route


def test_every_write_route_is_in_the_matrix():
    listed = {(op.method, route_of(op.path)) for op in OPERATIONS}
    read_pages = {("POST", route_of(path)) for path in READ_PAGES}
    found = write_routes()
    exempt = {key for key in found if key in EXEMPT or any(key[1].startswith(p) for p in EXEMPT_PREFIXES)}
    missing = sorted(found - listed - read_pages - exempt)
    assert not missing, f"write routes with no row in the permission matrix (add them to OPERATIONS): {missing}"
    stale = sorted((listed | read_pages) - found)
    assert not stale, f"rows of the matrix for routes that take no such method: {stale}"


def test_every_write_operation_of_the_openapi_schema_is_in_the_matrix():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {(method.upper(), _placeholders_blank(path)) for path, item in schema["paths"].items()
                  for method in item if method.upper() in {"POST", "PUT", "PATCH", "DELETE"}}
    listed = {(op.method, _placeholders_blank(op.path.split("?")[0])) for op in OPERATIONS if op.surface == API}
    assert sorted(operations - listed) == []
    assert sorted(listed - operations) == []


def _placeholders_blank(path: str) -> str:
    import re
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.mark.parametrize("path", READ_PAGES)
def test_read_pages_write_nothing_when_posted_to(path, world, db, sent):
    client = client_for(UI, "staff", world)
    before = state()
    client.post(path_filled(path, world["names"]), {"name": "x", "team": "commerce"})
    assert not changes(before, state()) and not sent


def test_each_cell_has_an_expectation_and_a_reason():
    assert len({op.name for op in OPERATIONS}) == len(OPERATIONS), "two rows of the same name"
    for op in OPERATIONS:
        assert op.allowed <= set(ACTORS) and op.why and set(op.xfail) <= set(ACTORS) - op.allowed, op.name


def test_the_matrix_in_docs_security_md_is_the_one_tested():
    """docs/security.md shows the table scripts/permission_matrix.py prints from OPERATIONS and ACTORS."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("permission_matrix_script", root / "scripts" / "permission_matrix.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.table() in (root / "docs" / "security.md").read_text(), (
        "the permission matrix changed: paste `python scripts/permission_matrix.py` into docs/security.md")
