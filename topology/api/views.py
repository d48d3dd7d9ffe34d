from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import JSON, detail, field_errors, refusal
from core.errors import Forbidden, Invalid

from ..authentication import api_actor
from ..filtersets import InteractionFilterSet, ServiceFilterSet
from ..manifest import (
    JSON_TYPES,
    YAML_TYPES,
    ManifestParseError,
    manifest_parse,
    manifest_schema,
    manifest_validate,
    media_type,
)
from ..registration import RegistrationInvalid, registration_apply
from ..schema import REGISTRATION_REFUSED
from ..selectors import interaction_list, service_detail_queryset, service_queryset, service_spec_of, team_list
from ..services import service_delete
from .serializers import (
    InteractionSerializer,
    RegistrationReportSerializer,
    ServiceDetailSerializer,
    ServiceSerializer,
    TeamSerializer,
)

TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes"}, {"false", "0", "no", ""}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def query_flag(request, name: str) -> bool:
    raw = request.query_params.get(name, "").strip().lower()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise exceptions.ValidationError({name: f"must be true or false, got {raw!r}"})


FAIL_ON = ("warning", "error")


def query_choice(request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if raw not in choices:
        raise exceptions.ValidationError({name: f"must be one of {', '.join(choices)}, got {raw[:40]!r}"})
    return raw


def read_body(request, *, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes whether or not Content-Length is honest."""
    django_request = request._request
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("Content-Length is not a number.") from None
    if declared > limit:
        raise PayloadTooLarge(f"the manifest is {declared} bytes; the limit is {limit} bytes")
    body = django_request.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"the manifest is larger than the limit of {limit} bytes")
    return body


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams, with how many services and members each has."""

    serializer_class = TeamSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return team_list()


class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                     mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Services (registered and placeholders). Create them with POST /api/v1/registrations/."""

    lookup_field = "name"
    lookup_value_regex = "[a-z0-9-]+"
    filterset_class = ServiceFilterSet

    def get_queryset(self):
        return service_detail_queryset() if self.action == "retrieve" else service_queryset()

    def get_serializer_class(self):
        return ServiceSerializer if self.action == "list" else ServiceDetailSerializer

    def update(self, request, *args, **kwargs):
        service = self.get_object()
        serializer = self.get_serializer(service, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        team = changes.pop("team", service.team)
        if team is None:
            raise exceptions.ValidationError({"team": "a placeholder needs a team to become a registered service"})
        spec = service_spec_of(service=service, team=team.slug, **changes)
        try:
            registration_apply(specs=[spec], actor=api_actor(request))
        except (Forbidden, Invalid) as exc:
            exc.errors = [{**error, "pointer": _field_pointer(error["pointer"])} for error in exc.errors]
            raise
        return Response(self.get_serializer(service_detail_queryset().get(pk=service.pk)).data)

    def perform_destroy(self, instance):
        service_delete(actor=api_actor(self.request), service=instance)


def _field_pointer(pointer: str) -> str:
    for prefix in ("/0/metadata", "/0/spec"):
        if pointer.startswith(prefix):
            return pointer[len(prefix):]
    return pointer


class InteractionViewSet(viewsets.ReadOnlyModelViewSet):
    """Interactions, each with its source, targets, declared style and criteria."""

    serializer_class = InteractionSerializer
    filterset_class = InteractionFilterSet

    def get_queryset(self):
        return interaction_list().order_by("source__name", "name")


class RegistrationView(APIView):
    """Apply a manifest: the whole desired state of each service it names."""

    parser_classes = []

    @extend_schema(
        operation_id="registrations_create",
        request={"application/yaml": OpenApiTypes.STR, "application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("dry_run", bool, description="Validate and report without writing."),
            OpenApiParameter("fail_on", str, enum=list(FAIL_ON),
                             description="422, writing nothing, when a mismatch of this severity or worse is present "
                                         "(accepted overrides excepted)."),
        ],
        responses={
            200: RegistrationReportSerializer,
            201: RegistrationReportSerializer,
            (400, JSON): field_errors("The body is not YAML/JSON ({detail}), or a query parameter is bad "
                                      "({parameter: message})."),
            (403, JSON): refusal("A named team or service is not yours to write."),
            (409, JSON): detail("A concurrent write got there first twice; send the manifest again."),
            (413, JSON): detail("The body is over REGISTRATION_MAX_BYTES."),
            (415, JSON): detail("The body is neither application/yaml nor application/json."),
            (422, JSON): OpenApiResponse(REGISTRATION_REFUSED, description=(
                "The manifest is invalid: each error points at its place (errors); or, with fail_on, "
                "mismatches of that severity or worse were found (offending). Nothing was written.")),
        },
    )
    def post(self, request):
        dry_run = query_flag(request, "dry_run")
        fail_on = query_choice(request, "fail_on", FAIL_ON)
        body = read_body(request, limit=settings.REGISTRATION_MAX_BYTES)
        if media_type(request.content_type) not in YAML_TYPES | JSON_TYPES:
            raise exceptions.UnsupportedMediaType(
                request.content_type or "(none)", "send the manifest as application/yaml or application/json"
            )
        try:
            documents = manifest_parse(body, request.content_type)
        except ManifestParseError as exc:
            raise exceptions.ParseError(str(exc)) from None
        result = manifest_validate(documents)
        if result.errors:
            raise RegistrationInvalid(result.errors)
        report = registration_apply(specs=result.services, actor=api_actor(request), dry_run=dry_run, fail_on=fail_on)
        created = report["created"] and not dry_run
        return Response(report, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ManifestSchemaView(APIView):
    """The manifest as JSON Schema (draft 2020-12): what editors check a switchboard.yaml against, and what
    every registration is validated with. Public: it describes the format and holds no data."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    @extend_schema(operation_id="manifest_schema", responses={(200, JSON): OpenApiTypes.OBJECT})
    def get(self, request):
        schema = manifest_schema(schema_id=request.build_absolute_uri())
        response = Response(schema, content_type="application/schema+json")
        response["Cache-Control"] = "public, max-age=3600"
        return response
