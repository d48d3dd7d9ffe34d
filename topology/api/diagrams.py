"""Topology, findings, flows and diagrams over the API."""
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import JSON, NOT_ACCEPTABLE, detail, field_errors, refusal
from core.renderers import DotRenderer, FileResponses, MermaidRenderer, PngRenderer, SvgRenderer, file_response
from core.severity import SEVERITIES

from .. import graph, mermaid
from ..authentication import api_actor
from ..flows import entry_steps, flow_delete, flow_list, flow_save, flow_steps
from ..models import Team
from ..render import RenderError, view_drawing, view_key
from ..rendering import Urls, View, view_parse, view_read, view_select
from ..selectors import interaction_target_names
from ..graph_selectors import Stamps, findings_current, topology_current, topology_stamps

TOPOLOGY_RENDERERS = [SvgRenderer, PngRenderer, DotRenderer, JSONRenderer]  # ?format= picks one, else Accept
TOPOLOGY_FORMATS = [renderer.format for renderer in TOPOLOGY_RENDERERS]
VIEW_PARAMETERS = [
    OpenApiParameter("team", str, description="Only this team's services and their direct neighbours."),
    OpenApiParameter("focus", str, description="Only services within `hops` of this one."),
    OpenApiParameter("hops", {"type": "integer", "minimum": 1, "maximum": 6},
                     description="With focus: how far to look (1-6, default 1)."),
    OpenApiParameter("blast", str, description="The blast radius of this service."),
    OpenApiParameter("chain", str, description="Highlight a chain: service names separated by commas."),
    OpenApiParameter("expand", str, description="Collapsed teams to show in full, separated by commas."),
]


class FindingSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="sync-chain, sync-cycle, sync-fan-out, sync-mesh, fan-in, "
                                           "chain-availability, or another source's kind (drift).")
    severity = serializers.CharField(help_text="error, warning or info.")
    services = serializers.ListField(child=serializers.CharField())
    cites = serializers.CharField(allow_blank=True, help_text="The guidance it applies, e.g. §3.5.")
    text = serializers.CharField()
    value = serializers.FloatField(allow_null=True)


class FindingsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = FindingSerializer(many=True)


class TopologyNodeSerializer(serializers.Serializer):
    name = serializers.CharField()
    team = serializers.CharField(allow_null=True, help_text="null for a placeholder.")
    placeholder = serializers.BooleanField()
    availability = serializers.FloatField(allow_null=True, help_text="0-1: measured uptime, else a declared SLO.")
    availability_source = serializers.CharField(allow_null=True, help_text="measured or slo.")
    health = serializers.CharField(allow_null=True, help_text="up, degraded or down; null when not probed.")


class TopologyLinkSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    interaction = serializers.CharField()
    style = serializers.CharField(allow_null=True)
    channel = serializers.CharField(allow_null=True)
    broker = serializers.CharField(allow_null=True)
    mismatch = serializers.CharField(allow_null=True, help_text="info, warning or error.")
    recommended = serializers.CharField(allow_null=True, help_text="The recommended pattern.")
    deliberate = serializers.BooleanField(help_text="An accepted override decision settles the mismatch.")


class TopologyJsonSerializer(serializers.Serializer):
    nodes = TopologyNodeSerializer(many=True)
    links = TopologyLinkSerializer(many=True)
    findings = FindingSerializer(many=True)


BAD_VIEW = field_errors("A bad view parameter, named with its message.")


class Unavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def view_from(params, topology: graph.Topology) -> View:
    """The view parameters, checked against the topology; a 400 names each bad parameter."""
    view, errors = view_parse(params, topology)
    if errors:
        raise exceptions.ValidationError(errors)
    return view


def _topology_json(topology: graph.Topology, view: View) -> dict:
    shown = view_select(topology, view)
    return {
        "nodes": [{"name": n.name, "team": n.team, "placeholder": n.placeholder, "availability": n.availability,
                   "availability_source": n.availability_source or None, "health": n.health or None} for n in shown.nodes.values()],
        "links": [{"source": l.source, "target": l.target, "interaction": l.interaction, "style": l.style or None,
                   "channel": l.channel or None, "broker": l.broker or None, "mismatch": l.mismatch or None,
                   "recommended": l.recommended or None, "deliberate": l.deliberate} for l in shown.links],
        "findings": [finding.as_dict() for finding in graph.findings(shown)],
    }


class TopologyView(FileResponses, APIView):
    """The topology as SVG, PNG, DOT or JSON, for the whole system or a view of it."""

    renderer_classes = TOPOLOGY_RENDERERS
    format_parameter = "format"

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=TOPOLOGY_FORMATS,
                                                description="Without it, Accept chooses (SVG for */*)."),
                               *VIEW_PARAMETERS],
                   responses={(200, "image/svg+xml"): OpenApiTypes.STR, (200, "image/png"): OpenApiTypes.BINARY,
                              (200, "text/vnd.graphviz"): OpenApiTypes.STR, (200, JSON): TopologyJsonSerializer,
                              304: OpenApiResponse(description="Unchanged since the ETag in If-None-Match."),
                              (400, JSON): BAD_VIEW,
                              (406, JSON): NOT_ACCEPTABLE,
                              (503, JSON): detail("Graphviz could not draw it.")},
                   operation_id="topology_retrieve")
    def get(self, request):
        fmt = request.query_params.get("format") or request.accepted_renderer.format  # SVG unless Accept says
        if fmt not in TOPOLOGY_FORMATS:
            raise exceptions.ValidationError({"format": "format must be svg, png, dot or json"})
        view, errors = view_read(request.query_params)
        if errors or fmt == "json" or not view.whole:
            stamp, topology = topology_current()
            view = view_from(request.query_params, topology)
            if fmt == "json":
                return Response(_topology_json(topology, view))
            stamps = Stamps(stamp, "")
        else:  # the whole system names nothing to check: large, it is drawn without loading every link
            stamps, topology = topology_stamps(), None
        etag = f'"{view_key(stamps.full, view, Urls(), fmt)}"'
        unchanged = get_conditional_response(request, etag=etag)
        if unchanged is not None:
            return _revalidated(unchanged, etag)
        try:
            body = view_drawing(stamps.full, view, fmt, topology=topology, registry=stamps.registry)
        except RenderError as exc:
            raise Unavailable(str(exc)) from None
        return _revalidated(file_response(body, filename=f"topology.{fmt}", inline=True), etag)


def _revalidated(response: HttpResponse, etag: str) -> HttpResponse:
    """A drawing the browser may keep, asking each time whether it is still current (304 when so)."""
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


class FindingsView(APIView):
    """Sync chains, cycles, fan-out, fan-in and chain availability, worst first."""

    @extend_schema(parameters=[OpenApiParameter("service", str), OpenApiParameter("kind", str),
                               OpenApiParameter("severity", str, enum=list(SEVERITIES))],
                   responses={200: FindingsSerializer, (400, JSON): field_errors("An unknown severity.")},
                   operation_id="topology_findings")
    def get(self, request):
        found = findings_current()
        service, kind, severity = (request.query_params.get(key) for key in ("service", "kind", "severity"))
        if severity is not None and severity not in SEVERITIES:
            raise exceptions.ValidationError({"severity": f"must be one of {', '.join(SEVERITIES)}"})
        found = [f for f in found if (not service or service in f.services) and (not kind or f.kind == kind)
                 and (not severity or f.severity == severity)]
        return Response({"count": len(found), "results": [finding.as_dict() for finding in found]})


class MermaidView(FileResponses, APIView):
    """Mermaid text (text/vnd.mermaid); a refusal is JSON."""

    renderer_classes = [MermaidRenderer]


class SequenceDiagramView(MermaidView):
    """A Mermaid sequenceDiagram of a flow, or derived from an entry service."""

    @extend_schema(parameters=[OpenApiParameter("flow", str), OpenApiParameter("entry", str),
                               OpenApiParameter("depth", {"type": "integer", "minimum": 1, "maximum": 12}),
                               OpenApiParameter("steps", {"type": "integer", "minimum": 1, "maximum": 200})],
                   responses={(200, "text/vnd.mermaid"): OpenApiTypes.STR,
                              (400, JSON): field_errors("Neither or both of flow and entry, an unknown entry, or a "
                                                        "bad depth or steps."),
                              (404, JSON): detail("No flow has this slug."), (406, JSON): NOT_ACCEPTABLE},
                   operation_id="diagrams_sequence")
    def get(self, request):
        params = request.query_params
        if bool(params.get("flow")) == bool(params.get("entry")):
            raise exceptions.ValidationError({"flow": "give either flow=<slug> or entry=<service>"})
        if params.get("flow"):
            flow = flow_list().filter(slug=params["flow"]).first()
            if flow is None:
                raise exceptions.NotFound(f"no flow named {params['flow']!r}")
            text = mermaid.sequence_diagram(flow_steps(flow), title=flow.name)
        else:
            topology = topology_current()[1]
            if params["entry"] not in topology.nodes:
                raise exceptions.ValidationError({"entry": f"no service named {params['entry']!r}"})
            depth, steps = _bounded(params, "depth", 6, 12), _bounded(params, "steps", 60, 200)
            text = mermaid.sequence_diagram(entry_steps(topology, params["entry"], depth=depth, steps=steps),
                                            title=f"From {params['entry']}")
        return Response(text)


def _bounded(params, key: str, default: int, highest: int) -> int:
    try:
        value = int(params.get(key) or default)
    except ValueError:
        value = 0
    if not 1 <= value <= highest:
        raise exceptions.ValidationError({key: f"{key} must be a whole number from 1 to {highest}"})
    return value


class FlowchartView(MermaidView):
    """A Mermaid flowchart of the topology or of a view of it."""

    @extend_schema(parameters=VIEW_PARAMETERS,
                   responses={(200, "text/vnd.mermaid"): OpenApiTypes.STR, (400, JSON): BAD_VIEW,
                              (406, JSON): NOT_ACCEPTABLE},
                   operation_id="diagrams_flowchart")
    def get(self, request):
        topology = topology_current()[1]
        shown = view_select(topology, view_from(request.query_params, topology))
        return Response(mermaid.flowchart(shown))


class FlowStepSerializer(serializers.Serializer):
    interaction = serializers.CharField(help_text="service/interaction")
    to = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="The interaction's targets.")
    label = serializers.CharField(required=False, allow_blank=True, default="")


class FlowSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True, default="")
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all(), allow_null=True,
                                        required=False, default=None)
    steps = FlowStepSerializer(many=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    written_by = serializers.CharField(read_only=True)

    def to_representation(self, flow):
        return {
            "slug": flow.slug, "name": flow.name, "description": flow.description,
            "team": flow.team.slug if flow.team_id else None,
            "steps": [{"interaction": f"{s.interaction.source.name}/{s.interaction.name}",
                       "to": interaction_target_names(s.interaction), "label": s.label} for s in flow.steps.all()],
            "created_at": flow.created_at, "updated_at": flow.updated_at, "written_by": flow.written_by,
        }


FLOW_WRITE = {(400, JSON): field_errors("A field of the wrong shape, named with its message."),
              (403, JSON): refusal("The flow's team is not yours to write (only administrators keep flows "
                                   "without a team)."),
              (422, JSON): refusal("A step names no interaction, or the slug is taken: each error points at "
                                   "its field.")}


@extend_schema_view(
    create=extend_schema(responses={201: FlowSerializer, **FLOW_WRITE}),
    update=extend_schema(responses={200: FlowSerializer, **FLOW_WRITE}),
    partial_update=extend_schema(responses={200: FlowSerializer, **FLOW_WRITE}),
    destroy=extend_schema(responses={204: None, (403, JSON): refusal("The flow is not yours to delete.")}),
)
class FlowViewSet(viewsets.ModelViewSet):
    """Named flows over interactions; GET /api/v1/diagrams/sequence/?flow=<slug> draws one."""

    serializer_class = FlowSerializer
    lookup_field = "slug"
    # JSON only: the body nests lists and objects, which form and multipart bodies cannot carry.
    parser_classes = [JSONParser]

    def get_queryset(self):
        return flow_list()

    def create(self, request, *args, **kwargs):
        return self._save(request, None, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        return self._save(request, self.get_object(), status.HTTP_200_OK)

    def partial_update(self, request, *args, **kwargs):
        flow = self.get_object()
        current = FlowSerializer(flow).data
        return self._save(request, flow, status.HTTP_200_OK, base={**current, **{"team": current["team"]}})

    def _save(self, request, flow, code, base=None):
        data = {**(base or {}), **request.data} if isinstance(request.data, dict) else request.data
        serializer = FlowSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        saved = flow_save(actor=api_actor(request), flow=flow, slug=values["slug"], name=values["name"],
                          description=values["description"], team=values["team"],
                          steps=[dict(step) for step in values["steps"]])
        return Response(FlowSerializer(flow_list().get(pk=saved.pk)).data, status=code)

    def perform_destroy(self, instance):
        flow_delete(actor=api_actor(self.request), flow=instance)
