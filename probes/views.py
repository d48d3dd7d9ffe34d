"""Probe pages: the list, one probe with its charts, the form, delete, and "probe now" with progress."""
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils import timezone
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError

from core.errors import Conflict
from core.web import filter_fields, is_htmx, page_of

from topology.authentication import ui_actor
from topology.models import Service
from topology.registration import registration_apply
from topology.selectors import service_spec_of, workers_alive
from topology.web import form_spec_apply, service_write_require

from .charts import latency_figure, uptime_heatmap
from .engine.spec import target_redacted
from .filtersets import ProbeFilterSet
from .forms import DETAILS_EXAMPLES, ProbeForm
from .models import Probe
from .selectors import (
    probe_get,
    probe_queryset,
    probe_results_recent,
    probe_latency_series,
    probe_uptime_grid,
    probe_uptimes,
)
from .services import probe_queue, probe_run_now

RUN_WAIT = timedelta(seconds=30)
RECENT_RUNS = 20


@login_required
def probe_list_view(request):
    filterset = ProbeFilterSet(request.GET or None, queryset=probe_queryset())
    page = page_of(request, filterset.qs)
    template = "probes/_probe_table.html" if is_htmx(request) else "probes/probe_list.html"
    response = render(request, template, {
        "filter": filterset, "page": page, "uptimes": probe_uptimes(probe_ids=[p.id for p in page]),
        "filter_fields": filter_fields(filterset, state="Any state", kind="Any kind"),
    })
    patch_vary_headers(response, ["HX-Request"])  # a cache must not serve the bare table as the page
    return response


def _probe_or_404(name: str, probe: str) -> Probe:
    found = probe_get(service_name=name, name=probe)
    if found is None:
        raise Http404(f"{name} has no probe {probe}")
    return found


@login_required
def probe_detail(request, name, probe):
    item = _probe_or_404(name, probe)
    hours = 168 if request.GET.get("range") == "7d" else 24
    return render(request, "probes/probe_detail.html", {
        "service": item.service, "probe": item, "target": target_redacted(item.target),
        "uptime": probe_uptimes(probe_ids=[item.id])[item.id],
        "latency_chart": latency_figure(probe_latency_series(probe=item, hours=hours)),
        "uptime_chart": uptime_heatmap(probe_uptime_grid(probe=item)),
        "results": probe_results_recent(probe=item, limit=RECENT_RUNS), "hours": hours,
        "retention_hours": settings.PROBE_RAW_RETENTION_HOURS,
        "can_write": ui_actor(request).can_write_team(item.service.team_id),
    })


@login_required
def probe_form_page(request, name, probe=None):
    """A new probe of the service (probe-create), or its `probe` edited (probe-edit)."""
    service = get_object_or_404(Service.objects.select_related("team"), name=name)
    service_write_require(ui_actor(request), service)
    declared = {item["name"]: item for item in service.probes}
    if probe and probe not in declared:
        raise Http404(f"{name} has no probe {probe}")
    initial = ProbeForm.initial_for(declared[probe]) if probe else None
    form = ProbeForm(request.POST or None, taken=set(declared) - {probe}, initial=initial)
    if request.method == "POST" and form.is_valid():
        new = form.declaration.as_manifest()
        probes = [new if item["name"] == probe else item for item in service.probes] if probe else [*service.probes, new]
        if form_spec_apply(request, form, service_spec_of(service=service, probes=probes)):
            messages.success(request, f"Probe {new['name']} {'saved' if probe else 'added'}; it runs within its interval.")
            return redirect("probe-detail", name=service.name, probe=new["name"])
    return render(request, "probes/probe_form.html", {
        "form": form, "service": service, "probe": probe, "examples": DETAILS_EXAMPLES,
    })


@login_required
def probe_delete(request, name, probe):
    service = get_object_or_404(Service.objects.select_related("team"), name=name)
    service_write_require(ui_actor(request), service)
    if probe not in {item["name"] for item in service.probes}:
        raise Http404(f"{name} has no probe {probe}")
    if request.method == "POST":
        probes = [item for item in service.probes if item["name"] != probe]
        try:
            registration_apply(specs=[service_spec_of(service=service, probes=probes)], actor=ui_actor(request))
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Probe {probe} deleted with its history.")
        return redirect("service-detail", name=service.name)
    return render(request, "topology/confirm_delete.html", {
        "object_label": f"probe {service.name}/{probe}",
        "consequences": ["its results, rollups and uptime history are deleted with it"],
        "cancel_url": service.get_absolute_url(),
    })


@login_required
@require_POST
def probe_run(request, name, probe):
    item = _probe_or_404(name, probe)
    service_write_require(ui_actor(request), item.service)
    context = {"probe": item, "workers": workers_alive()}
    try:
        context["slot"] = probe_run_now(probe=item)
    except OperationalError as exc:
        # Nothing was queued: 503, with the banner that names the broker (not a 500).
        context["broker_error"] = str(exc)
        return render(request, "probes/_probe_run.html", context, status=503)
    return render(request, "probes/_probe_run.html", context)


@login_required
def probe_run_status(request, name, probe):
    item = _probe_or_404(name, probe)
    try:
        slot = datetime.fromisoformat(request.GET.get("slot", ""))
        slot = slot if slot.tzinfo else slot.replace(tzinfo=UTC)
    except ValueError:
        return HttpResponseBadRequest("slot must be the ISO time that probe now returned")
    statuses = list(item.statuses.all())
    done = [status for status in statuses if status.last_slot and status.last_slot >= slot]
    return render(request, "probes/_probe_run.html", {
        "probe": item, "slot": slot, "done": done, "finished": len(done) == len(statuses), "total": len(statuses),
        "waiting": [status.location for status in statuses if status not in done],
        "expired": timezone.now() - slot > RUN_WAIT, "queues": [probe_queue(loc) for loc in item.locations],
        "workers": workers_alive(),
    })
