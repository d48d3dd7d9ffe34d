"""The notifications pages: channels, recent events with their deliveries, maintenance windows and
mutes (/notifications/), and one channel with its settings, test button and delivery log."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import Conflict, Forbidden, Invalid
from core.web import filter_fields, is_htmx, page_of
from probes.models import Probe
from topology.authentication import ui_actor
from topology.models import Service, Team

from . import delivery, services
from .filtersets import EventFilterSet
from .forms import ChannelForm, MuteForm, WindowForm, refusal_show
from .selectors import (channel_log, channels_for, deliveries_for, delivery_counts, events_for, mutes_for,
                        url_shown, windows_for)


def _writable_teams(actor):
    return Team.objects.all() if actor.is_staff else Team.objects.filter(pk__in=actor.writable_team_ids)


def _services_writable(actor):
    services_ = Service.objects.filter(team__isnull=False).order_by("name")
    return services_ if actor.is_staff else services_.filter(team_id__in=actor.writable_team_ids)


def _page(request, *, status: int = 200, channel_form=None, window_form=None, mute_form=None):
    actor = ui_actor(request)
    channels = list(channels_for(actor=actor))
    counts = delivery_counts(channel_ids=[c.pk for c in channels])
    rows = [{"channel": c, "url": url_shown(c, actor=actor), "counts": counts.get(c.pk, {})} for c in channels]
    events = EventFilterSet(request.GET, queryset=events_for(actor=actor))
    shown = page_of(request, events.qs, size=25)
    for event in shown:  # links on this page stay on the host it was opened on
        event.link = (event.payload.get("url") or "").removeprefix(settings.SWITCHBOARD_URL)
    writable = _services_writable(actor)
    return render(request, "notifications/notifications.html", {
        "rows": rows, "events": shown, "filterset": events,
        "filter_fields": filter_fields(events, type="Any type", team="e.g. payments", delivery="Any delivery state"),
        "windows": windows_for(actor=actor, current_only=True), "mutes": mutes_for(actor=actor),
        "can_add": actor.is_staff or bool(actor.writable_team_ids), "now": timezone.now(),
        "channel_form": channel_form or ChannelForm(teams=_writable_teams(actor), system=actor.is_staff),
        "window_form": window_form or WindowForm(services=writable),
        "mute_form": mute_form or MuteForm(probes=Probe.objects.filter(service__in=writable).select_related("service")
                                           .order_by("service__name", "name")),
    }, status=status)


@login_required
def notifications_page(request):
    if request.method != "POST":
        return _page(request)
    actor = ui_actor(request)
    form = ChannelForm(request.POST, teams=_writable_teams(actor), system=actor.is_staff)
    if form.is_valid():
        try:
            channel = services.channel_create(actor=actor, team=form.cleaned_data["team"], values=form.values())
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except Invalid as exc:
            form.refusal_show(exc)
        else:
            messages.success(request, f"Channel {channel.name} added. Send it a test to check that it works.")
            return redirect(channel.get_absolute_url())
    return _page(request, status=422, channel_form=form)


def _channel_of(request, pk: int):
    actor = ui_actor(request)
    channel = channels_for(actor=actor).filter(pk=pk).first()
    if channel is None:
        raise Http404("No such channel, or not one of your teams'.")
    return actor, channel


@login_required
def channel_page(request, pk: int):
    actor, channel = _channel_of(request, pk)
    can_write = actor.can_write_team(channel.team_id)
    form = None
    status = 200
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied("Only maintainers of the channel's team (or staff) change it.")
        form = ChannelForm(request.POST, editing=True)
        if form.is_valid():
            try:
                services.channel_update(actor=actor, channel=channel, values=form.values())
            except Invalid as exc:
                form.refusal_show(exc)
            else:
                messages.success(request, f"Channel {channel.name} saved.")
                return redirect(channel.get_absolute_url())
        status = 422
    if form is None and can_write:
        form = ChannelForm(editing=True, initial={**{f: getattr(channel, f) for f in (
            "name", "kind", "url", "events", "min_severity", "chain_depth", "enabled")},
            "addresses": "\n".join(channel.addresses)})
    return render(request, "notifications/channel_detail.html", {
        "channel": channel, "url": url_shown(channel, actor=actor), "can_write": can_write, "form": form,
        "log": page_of(request, channel_log(channel=channel), size=25),
        "failed": deliveries_for(actor=actor).filter(channel=channel, status="failed").order_by("-created_at")[:20],
    }, status=status)


@login_required
@require_POST
def channel_test_view(request, pk: int):
    actor, channel = _channel_of(request, pk)
    try:
        attempt = delivery.channel_test(actor=actor, channel=channel)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    if is_htmx(request):
        return render(request, "notifications/_test_outcome.html", {"attempt": attempt, "channel": channel})
    if attempt.ok:
        messages.success(request, f"Test delivered to {channel.name} in {attempt.duration_ms:.0f} ms.")
    else:
        messages.error(request, f"Test to {channel.name} failed: {attempt.error}")
    return redirect(channel.get_absolute_url())


@login_required
@require_POST
def channel_delete_view(request, pk: int):
    actor, channel = _channel_of(request, pk)
    try:
        services.channel_delete(actor=actor, channel=channel)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(request, f"Channel {channel.name} removed.")
    return redirect("notifications")


@login_required
@require_POST
def delivery_resend_view(request, pk: int):
    actor = ui_actor(request)
    found = get_object_or_404(deliveries_for(actor=actor), pk=pk)
    try:
        delivery.delivery_resend(actor=actor, delivery=found)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Delivery of {found.event.type} to {found.channel.name} queued again.")
    back = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(back if back and safe else reverse("notifications"))


def _aware(moment):
    return timezone.make_aware(moment) if moment is not None and timezone.is_naive(moment) else moment


@login_required
@require_POST
def window_create_view(request):
    actor = ui_actor(request)
    form = WindowForm(request.POST, services=_services_writable(actor))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.window_create(actor=actor, starts_at=_aware(data["starts_at"]), ends_at=_aware(data["ends_at"]),
                                   services=[s.name for s in data["services"]], reason=data["reason"])
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except Invalid as exc:
            refusal_show(form, exc)
        else:
            messages.success(request, "Maintenance window added: probe alerts of its services are held while it is open.")
            return redirect(reverse("notifications") + "#maintenance")
    return _page(request, status=422, window_form=form)


def _removed(request, remove, *, message: str, anchor: str):
    """Run a removal the actor may be refused (the 403 page), then go back to its section."""
    try:
        remove()
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(request, message)
    return redirect(reverse("notifications") + anchor)


@login_required
@require_POST
def window_delete_view(request, pk: int):
    actor = ui_actor(request)
    window = get_object_or_404(windows_for(actor=actor), pk=pk)
    return _removed(request, lambda: services.window_delete(actor=actor, window=window),
                    message="Maintenance window removed.", anchor="#maintenance")


@login_required
@require_POST
def mute_create_view(request):
    actor = ui_actor(request)
    probes = Probe.objects.filter(service__in=_services_writable(actor)).select_related("service")
    form = MuteForm(request.POST, probes=probes)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.probe_mute_set(actor=actor, probe=data["probe"], until=_aware(data["until"]), reason=data["reason"])
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except Invalid as exc:
            refusal_show(form, exc)
        else:
            messages.success(request, f"{data['probe'].key} muted.")
            return redirect(reverse("notifications") + "#mutes")
    return _page(request, status=422, mute_form=form)


@login_required
@require_POST
def mute_delete_view(request, pk: int):
    actor = ui_actor(request)
    mute = get_object_or_404(mutes_for(actor=actor), pk=pk)
    return _removed(request, lambda: services.probe_mute_delete(actor=actor, probe=mute.probe),
                    message=f"{mute.probe.key} unmuted.", anchor="#mutes")
