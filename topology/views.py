"""Browser pages. Each view reads through a selector or writes through one service call."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.defaultfilters import pluralize
from django.utils.cache import patch_vary_headers
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import Conflict, Forbidden, Invalid
from core.web import filter_fields, is_htmx, page_of

from .authentication import ui_actor
from .extensions import page_context, registered
from .filtersets import InteractionFilterSet, ServiceFilterSet
from .choices import TeamRole
from .forms import InteractionForm, MemberAddForm, ServiceForm, TokenCreateForm
from .manifest import ServiceSpec
from .models import ApiToken, Service, Team
from .registration import registration_apply
from .selectors import interaction_list, interaction_spec_of, service_history, service_incoming, service_list, service_outgoing, service_spec_of, team_history, team_list, team_member_of, team_members, team_role_of, team_tokens, teams_writable_by
from .graph import SYNC
from .graph_selectors import budget_checks_of, findings_current, topology_current
from .budgets import budget_bar
from .services import (service_delete, team_member_add, team_member_remove, team_member_role_change,
                       team_members_write_check, token_create, token_revoke)
from .web import form_spec_apply, service_write_require

SERVICE_FORM_FIELDS = ("title", "description", "lifecycle", "language", "repository", "labels")


@login_required
def service_list_view(request):
    filterset = ServiceFilterSet(request.GET or None, queryset=service_list().order_by("name"))
    page = page_of(request, filterset.qs)
    template = "topology/_service_table.html" if is_htmx(request) else "topology/service_list.html"
    can_create = teams_writable_by(actor=ui_actor(request)).exists()
    response = render(request, template, {
        "filter": filterset, "page": page, "can_create": can_create,
        "filter_fields": filter_fields(filterset, team="All teams", lifecycle="Any lifecycle"),
    })
    patch_vary_headers(response, ["HX-Request"])  # a cache must not serve the bare table as the page
    return response


@login_required
def service_detail(request, name):
    service = get_object_or_404(Service.objects.select_related("team"), name=name)
    actor = ui_actor(request)
    return render(request, "topology/service_detail.html", {
        "service": service,
        "outgoing": service_outgoing(service=service),
        "incoming": service_incoming(service=service),
        "history": service_history(service_name=service.name),
        "can_write": actor.can_write_team(service.team_id),
        "findings": [finding for finding in findings_current() if service.name in finding.services],
        **page_context(registered.service_page, service),
    })


@login_required
def service_create(request):
    actor = ui_actor(request)
    teams = teams_writable_by(actor=actor)
    if not teams.exists():
        raise PermissionDenied("You maintain no team, so you cannot register services.")
    form = ServiceForm(request.POST or None, teams=teams, initial={"name": request.GET.get("name", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        spec_fields = {key: data[key] for key in SERVICE_FORM_FIELDS}
        # A placeholder of that name (no interactions of its own) is promoted by registering it.
        spec = ServiceSpec(name=data["name"], team=data["team"].slug, **spec_fields)
        if form_spec_apply(request, form, spec):
            messages.success(request, f"Service {spec.name} registered.")
            return redirect("service-detail", name=spec.name)
    return render(request, "topology/service_form.html", {"form": form, "service": None})


@login_required
def service_edit(request, name):
    service = get_object_or_404(Service.objects.select_related("team"), name=name)
    actor = ui_actor(request)
    if not service.is_placeholder:
        service_write_require(actor, service)
    teams = teams_writable_by(actor=actor)
    form = ServiceForm(request.POST or None, teams=teams, service=service, initial=ServiceForm.initial_for(service))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {key: data[key] for key in SERVICE_FORM_FIELDS}
        spec = service_spec_of(service=service, team=data["team"].slug, **fields)
        if form_spec_apply(request, form, spec):
            messages.success(request, f"Service {service.name} saved.")
            return redirect("service-detail", name=service.name)
    return render(request, "topology/service_form.html", {"form": form, "service": service})


@login_required
def service_delete_view(request, name):
    service = get_object_or_404(Service.objects.select_related("team"), name=name)
    actor = ui_actor(request)
    service_write_require(actor, service)
    if request.method == "POST":
        outcome = service_delete(actor=actor, service=service)
        if outcome == "placeholder":
            messages.info(request, f"{name} is still targeted by other services, so it stays as a placeholder.")
            return redirect("service-detail", name=name)
        messages.success(request, f"Service {name} deleted.")
        return redirect("service-list")
    outgoing = service.interactions.count()
    return render(request, "topology/confirm_delete.html", {
        "object_label": f"service {service.name}",
        "consequences": [f"its {outgoing} outgoing interaction{pluralize(outgoing)} will be deleted"] * bool(outgoing)
        + ["services that target it keep it as a placeholder"],
        "cancel_url": service.get_absolute_url(),
    })


def _interaction_context(service: Service):
    outgoing = list(service_outgoing(service=service))
    return outgoing, {item.name for item in outgoing}


@login_required
def interaction_list_view(request):
    filterset = InteractionFilterSet(request.GET or None, queryset=interaction_list().order_by("source__name", "name"))
    return render(request, "topology/interaction_list.html", {
        "filter": filterset, "page": page_of(request, filterset.qs),
        "filter_fields": filter_fields(filterset, service="e.g. checkout", target="e.g. payments",
                                       style="Any style", broker="Any broker"),
    })


@login_required
def interaction_detail(request, name, interaction):
    service = get_object_or_404(Service.objects.select_related("team"), name=name)
    item = get_object_or_404(interaction_list(), source=service, name=interaction)
    return render(request, "topology/interaction_detail.html", {
        "service": service, "interaction": item,
        "recommendation": registered.assessor.expanded(item.recommendation, criteria=item.criteria),
        **page_context(registered.interaction_page, item),
        "form": InteractionForm(source=service, interaction_names=set(),
                                initial=InteractionForm.initial_for(interaction_spec_of(item))),
        "can_write": ui_actor(request).can_write_team(service.team_id),
        "budget_checks": _budget_rows(service.name, item),
    })


def _budget_rows(source: str, item) -> list:
    """The interaction's budget checks, each with its bar (budgets.budget_bar)."""
    if item.style not in SYNC or not item.criteria.get("latency_budget_ms"):
        return []
    return [budget_bar(check) for check in budget_checks_of(topology_current()[1], only=(source, item.name))]


@login_required
def interaction_form_page(request, name, interaction=None):
    """A new interaction of the service (interaction-create), or its `interaction` edited (interaction-edit)."""
    service = get_object_or_404(Service.objects.select_related("team"), name=name)
    service_write_require(ui_actor(request), service)
    outgoing, names = _interaction_context(service)
    current = next((item for item in outgoing if item.name == interaction), None)
    if interaction and current is None:
        raise Http404(f"{name} has no interaction {interaction}")
    initial = InteractionForm.initial_for(interaction_spec_of(current)) if current else None
    form = InteractionForm(request.POST or None, source=service, interaction_names=names, editing=interaction,
                           initial=initial)
    if request.method == "POST" and form.is_valid():
        spec = form.spec()
        specs = [interaction_spec_of(item) for item in outgoing if item.name != interaction] + [spec]
        if form_spec_apply(request, form, service_spec_of(service=service, interactions=specs)):
            messages.success(request, f"Interaction {spec.name} {'saved' if current else 'added'}.")
            return redirect("interaction-detail", name=service.name, interaction=spec.name)
    return render(request, "topology/interaction_form.html", {"form": form, "service": service, "interaction": current})


@login_required
def interaction_delete(request, name, interaction):
    service = get_object_or_404(Service.objects.select_related("team"), name=name)
    service_write_require(ui_actor(request), service)
    outgoing, names = _interaction_context(service)
    if interaction not in names:
        raise Http404(f"{name} has no interaction {interaction}")
    if request.method == "POST":
        specs = [interaction_spec_of(item) for item in outgoing if item.name != interaction]
        try:
            registration_apply(specs=[service_spec_of(service=service, interactions=specs)], actor=ui_actor(request))
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("service-detail", name=service.name)
        messages.success(request, f"Interaction {interaction} deleted.")
        return redirect("service-detail", name=service.name)
    return render(request, "topology/confirm_delete.html", {
        "object_label": f"interaction {service.name}/{interaction}",
        "consequences": ["targets that nothing else references (placeholders) are removed with it"],
        "cancel_url": service.get_absolute_url(),
    })


@login_required
def team_list_view(request):
    return render(request, "topology/team_list.html", {"teams": team_list().order_by("slug")})


def _team_page(request, team: Team, *, status: int = 200, **members) -> HttpResponse:
    """The team page; `members` overrides the Members section's form, notice or problem."""
    role = team_role_of(user=request.user, team=team)
    return render(request, "topology/team_detail.html", {
        "team": team,
        "role": role,
        "services": page_of(request, service_list().filter(team=team).order_by("name")),
        "tokens": team_tokens(team=team) if role == "maintainer" else None,
        "history": team_history(team_slug=team.slug),
        "new_token": request.session.pop("new_token", None),
        **_members_context(team, manage=role == "maintainer", **members),
    }, status=status)


def _members_context(team: Team, *, manage: bool, form: MemberAddForm | None = None, notice: str = "",
                     problem: str = "") -> dict:
    members = list(team_members(team=team))
    return {"members": members, "manage_members": manage,
            "maintainer_count": sum(item.role == TeamRole.MAINTAINER for item in members),
            "member_form": form or MemberAddForm(), "member_notice": notice, "member_problem": problem,
            "roles": TeamRole.choices}


@login_required
def team_detail(request, slug):
    return _team_page(request, get_object_or_404(Team, slug=slug))


def _members_answer(request, team: Team, *, status: int = 200, form: MemberAddForm | None = None,
                    notice: str = "", problem: str = ""):
    """After a member change. htmx gets the Members section (and the history, out of band, when something
    was written). A plain form post is redirected to the team page when it worked, or gets the page again
    with the problem in the Members section and the refusal's status (403, 409, 422)."""
    if is_htmx(request):
        return render(request, "topology/_members.html", {
            "team": team, "history": team_history(team_slug=team.slug), "history_oob": status == 200,
            **_members_context(team, manage=ui_actor(request).can_write_team(team.id), form=form, notice=notice,
                               problem=problem),
        }, status=status)
    if status == 200:
        messages.success(request, notice)
        return redirect(team.get_absolute_url() + "#members")
    if status == 403:
        raise PermissionDenied(problem)
    return _team_page(request, team, status=status, form=form, problem=problem)


def _members_writer(request, team: Team):
    """The actor, when it may change the team's members; else the refusal's message."""
    actor = ui_actor(request)
    try:
        team_members_write_check(actor=actor, team=team)
    except Forbidden as exc:
        return None, str(exc)
    return actor, ""


def _member_or_404(team: Team, username: str):
    membership = team_member_of(team=team, username=username)
    if membership is None:
        raise Http404(f"{username} is not a member of {team.slug}")
    return membership


@login_required
@require_POST
def member_add_view(request, slug):
    team = get_object_or_404(Team, slug=slug)
    actor, refusal = _members_writer(request, team)
    if actor is None:
        return _members_answer(request, team, status=403, problem=refusal)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        username, role = form.cleaned_data["username"], form.cleaned_data["role"]
        try:
            team_member_add(actor=actor, team=team, username=username, role=role)
        except Invalid as exc:
            form.refusal_show(exc.errors)
        except (Forbidden, Conflict) as exc:
            return _members_answer(request, team, status=exc.status, form=form, problem=str(exc))
        else:
            return _members_answer(request, team, notice=f"{username} added to {team} as {role}.")
    return _members_answer(request, team, status=422, form=form)


@login_required
@require_POST
def member_role_view(request, slug, username):
    team = get_object_or_404(Team, slug=slug)
    actor, refusal = _members_writer(request, team)
    if actor is None:
        return _members_answer(request, team, status=403, problem=refusal)
    membership = _member_or_404(team, username)
    role = request.POST.get("role", "")
    try:
        team_member_role_change(actor=actor, team=team, membership=membership, role=role)
    except (Invalid, Forbidden, Conflict) as exc:
        return _members_answer(request, team, status=exc.status,
                               problem=f"The role of {username} was not changed: {exc}.")
    return _members_answer(request, team, notice=f"{username} is now a {role} of {team}.")


@login_required
@require_POST
def member_remove_view(request, slug, username):
    team = get_object_or_404(Team, slug=slug)
    actor, refusal = _members_writer(request, team)
    if actor is None:
        return _members_answer(request, team, status=403, problem=refusal)
    membership = _member_or_404(team, username)
    try:
        team_member_remove(actor=actor, team=team, membership=membership)
    except (Forbidden, Conflict) as exc:
        return _members_answer(request, team, status=exc.status, problem=f"{exc}.")
    return _members_answer(request, team, notice=f"{username} removed from {team}.")


@login_required
@require_POST
def token_create_view(request, slug):
    team = get_object_or_404(Team, slug=slug)
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    elif team.tokens.filter(name=form.cleaned_data["name"]).exists():
        messages.error(request, f"Team {team.slug} already has a token named {form.cleaned_data['name']!r}.")
    else:
        try:
            token, raw = token_create(actor=ui_actor(request), team=team, name=form.cleaned_data["name"],
                                      expires_in_days=form.cleaned_data["expires_in_days"])
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        # Shown once on the next page, then gone: only the digest is stored.
        request.session["new_token"] = {"name": token.name, "value": raw}
    return redirect("team-detail", slug=team.slug)


@login_required
@require_POST
def token_revoke_view(request, slug, token_id):
    token = get_object_or_404(ApiToken.objects.select_related("team"), team__slug=slug, pk=token_id)
    try:
        revoked = token_revoke(actor=ui_actor(request), token=token)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    if revoked:
        messages.success(request, f"Token {token.name} revoked; it no longer authenticates.")
    return redirect("team-detail", slug=slug)
