"""Probe API: state, uptime and results of each probe, and "probe now". Probes are declared on services."""
from datetime import UTC, datetime

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from kombu.exceptions import OperationalError
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from topology.authentication import api_actor

from ..engine.spec import probe_redacted
from ..filtersets import ProbeFilterSet
from ..selectors import probe_outcome, probe_queryset, probe_result_page, probe_uptimes
from ..services import probe_run_now

MAX_RESULTS = 1000


class BrokerUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "broker_unavailable"


class ProbeStatusSerializer(serializers.Serializer):
    location = serializers.CharField()
    outcome = serializers.CharField(help_text="up, degraded, down, or empty when it has not run yet")
    since = serializers.DateTimeField(allow_null=True)
    checked_at = serializers.DateTimeField(allow_null=True)
    latency_ms = serializers.FloatField(allow_null=True)
    values = serializers.DictField()
    error = serializers.CharField()


class ProbeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    service = serializers.CharField(source="service.name")
    name = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.SerializerMethodField(help_text="The worst state over its locations")
    declaration = serializers.SerializerMethodField(help_text="As declared in spec.probes, secrets hidden")
    statuses = ProbeStatusSerializer(many=True, source="statuses.all")
    uptime = serializers.SerializerMethodField(help_text="Share of runs not down over 24h, 7d and 30d")
    page = serializers.SerializerMethodField()

    def get_state(self, probe) -> str:
        return probe_outcome(probe)

    def get_declaration(self, probe) -> dict:
        declared = next((item for item in probe.service.probes if item["name"] == probe.name), {})
        return probe_redacted(declared)

    def get_uptime(self, probe) -> dict:
        return self.context.get("uptimes", {}).get(probe.id) or probe_uptimes(probe_ids=[probe.id])[probe.id]

    def get_page(self, probe) -> str:
        return self.context["request"].build_absolute_uri(probe.get_absolute_url())


class ProbeResultSerializer(serializers.Serializer):
    location = serializers.CharField()
    slot = serializers.DateTimeField(help_text="When the run was due")
    started_at = serializers.DateTimeField()
    latency_ms = serializers.FloatField()
    outcome = serializers.CharField()
    values = serializers.DictField(allow_null=True)
    error = serializers.CharField()


class ProbeViewSet(viewsets.ReadOnlyModelViewSet):
    """Probes with their current state per location and uptime. Declare them in a service's `probes`."""

    serializer_class = ProbeSerializer
    filterset_class = ProbeFilterSet

    def get_queryset(self):
        return probe_queryset().order_by("service__name", "name")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        uptimes = probe_uptimes(probe_ids=[probe.id for probe in page])
        serializer = self.get_serializer(page, many=True, context={**self.get_serializer_context(), "uptimes": uptimes})
        return self.get_paginated_response(serializer.data)

    @extend_schema(parameters=[
        OpenApiParameter("location", OpenApiTypes.STR, description="Only this location"),
        OpenApiParameter("before", OpenApiTypes.DATETIME, description="Only runs due before this time (next page)"),
        OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS},
                         description=f"At most this many (default 100, max {MAX_RESULTS})"),
    ], responses=ProbeResultSerializer(many=True))
    # A plain list paged with `before`: neither the probe list's pages nor its filters apply here.
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def results(self, request, pk=None):
        """Raw runs, newest first; page back with `before` = the last row's slot."""
        probe = self.get_object()
        rows = probe_result_page(probe=probe, location=request.query_params.get("location") or None,
                                 before=_when(request, "before"), limit=_limit(request))
        return Response(ProbeResultSerializer(rows, many=True).data)

    @extend_schema(request=None, responses={202: inline_serializer("ProbeRunQueued", {
        "slot": serializers.DateTimeField(), "locations": serializers.ListField(child=serializers.CharField()),
        "status": serializers.URLField()})})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Run it now at each of its locations; poll the probe until each status's run is at or after `slot`."""
        probe = self.get_object()
        if not api_actor(request).can_write_team(probe.service.team_id):
            raise exceptions.PermissionDenied(f"only maintainers of {probe.service.team} can run {probe.key} now")
        try:
            slot = probe_run_now(probe=probe)
        except OperationalError as exc:
            raise BrokerUnavailable(f"the Celery broker did not answer: {exc}") from None
        url = request.build_absolute_uri(reverse("probes-api:probe-detail", args=[probe.id]))
        return Response({"slot": slot, "locations": probe.locations, "status": url}, status=status.HTTP_202_ACCEPTED)


def _when(request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise exceptions.ValidationError({name: f"must be an ISO 8601 time, got {raw[:40]!r}"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _limit(request) -> int:
    raw = request.query_params.get("limit", "100")
    # isdecimal() alone admits other scripts' digits; "²".isdigit() is true and int("²") raises.
    if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= MAX_RESULTS:
        raise exceptions.ValidationError({"limit": f"must be a whole number from 1 to {MAX_RESULTS}"})
    return int(raw)
