"""Import API: observed dependencies from a tracing system's export, and the drift they show."""
from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.choices import JobStatus
from core.errors import Invalid
from topology.api.views import PayloadTooLarge, query_flag, read_body
from topology.authentication import api_actor

from ..catalog_services import catalog_import, catalog_parse, documents_joined, source_name
from ..dependencies import dependencies_parse
from ..jobs import import_job_request, job_dict
from ..models import ImportJob
from ..drift import STATUSES
from ..selectors import drift_current, snapshot_current
from ..services import dependencies_import, snapshot_dict

MULTIPART = "multipart/form-data"


def upload_text(request, *, limit: int) -> str:
    """The uploaded document: the request body, or the multipart field `file`; at most `limit` bytes."""
    if request.content_type.startswith(MULTIPART):
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": "send the document as the multipart field 'file'"})
        if upload.size > limit:
            raise PayloadTooLarge(f"the file is {upload.size} bytes; the limit is {limit} bytes")
        return utf8_text(upload.read(), pointer="file", what=f"the file {upload.name!r}")
    return utf8_text(read_body(request, limit=limit), pointer="", what="the body")


def utf8_text(raw: bytes, *, pointer: str, what: str) -> str:
    """The bytes as UTF-8 text, or a 422 at pointer naming the first byte that is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid([{"pointer": pointer, "message": f"{what} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                        f"offset {exc.start}); save it as UTF-8"}]) from None


class DependenciesImportView(APIView):
    """Observed calls between services from a Jaeger dependencies export ([{parent, child, callCount}])
    or Zipkin dependency links ([{parent, child, callCount, errorCount}]), optionally wrapped as
    {"start", "end", "links"}. The newest import is what drift compares the registry with; the same
    export again changes nothing (200). `?dry_run=true` shows the drift it would show and writes nothing."""

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT, MULTIPART: OpenApiTypes.BINARY},
                   parameters=[OpenApiParameter("dry_run", bool)], responses={200: dict, 201: dict},
                   operation_id="imports_dependencies")
    def post(self, request):
        found = dependencies_parse(upload_text(request, limit=settings.REGISTRATION_MAX_BYTES))
        if found.errors:
            raise Invalid(list(found.errors))
        report = dependencies_import(actor=api_actor(request), found=found, dry_run=query_flag(request, "dry_run"))
        return Response(report, status=status.HTTP_201_CREATED if report["created"] else status.HTTP_200_OK)


def upload_texts(request, *, limit: int) -> list[tuple[str, str]]:
    """(name, text) of every document: each multipart field `file`, or the request body as one."""
    if not request.content_type.startswith(MULTIPART):
        return [(request.query_params.get("source") or "body", upload_text(request, limit=limit))]
    files = request.FILES.getlist("file")
    if not files:
        raise exceptions.ValidationError({"file": "send each document as a multipart field 'file'"})
    if sum(upload.size for upload in files) > limit:
        raise PayloadTooLarge(f"the files are larger than the limit of {limit} bytes together")
    return [(upload.name, utf8_text(upload.read(), pointer="file", what=f"the file {upload.name!r}"))
            for upload in files]


CATALOG_PARAMETERS = [OpenApiParameter("team", str, description="The team of what the documents do not give one"),
                      OpenApiParameter("source", str, description="The name this source is known by (default: "
                                       "the file's name); a newer version under the same name replaces it"),
                      OpenApiParameter("dry_run", bool)]


def catalog_schema(operation_id: str):
    """The OpenAPI description shared by the catalog imports, under an operation id of each's own."""
    return extend_schema_view(post=extend_schema(
        request={"application/yaml": OpenApiTypes.STR, MULTIPART: OpenApiTypes.BINARY}, parameters=CATALOG_PARAMETERS,
        responses={200: dict, 201: dict}, operation_id=operation_id))


class CatalogImportView(APIView):
    """Shared by the Backstage and AsyncAPI imports: parse, then apply through the registration path."""

    kind = ""

    def post(self, request):
        documents = upload_texts(request, limit=settings.REGISTRATION_MAX_BYTES)
        team = request.query_params.get("team") or None
        name = source_name(request.query_params.get("source"), documents[0][0])
        dry_run = query_flag(request, "dry_run")
        if not dry_run and sum(len(text) for _, text in documents) > settings.IMPORT_INLINE_MAX_BYTES:
            found = catalog_parse(kind=self.kind, documents=documents, team=team)
            if found.errors:  # refused now, with its pointers, rather than queued to fail later
                raise Invalid(list(found.errors))
            job = import_job_request(actor=api_actor(request), kind=self.kind, name=name, team=team,
                                     documents=documents)
            job.refresh_from_db()  # queued once its row committed: a broker that did not answer failed it
            answer = status.HTTP_503_SERVICE_UNAVAILABLE if job.status == JobStatus.FAILED else status.HTTP_202_ACCEPTED
            return Response({"job": job_dict(job), "url": request.build_absolute_uri(
                reverse("imports-api:import-job", args=[job.pk]))}, status=answer)
        report = catalog_import(actor=api_actor(request), kind=self.kind, name=name,
                                content=documents_joined(documents),
                                result=catalog_parse(kind=self.kind, documents=documents, team=team),
                                dry_run=dry_run)
        created = not report["dry_run"] and not report["unchanged"]
        return Response(report, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@catalog_schema("imports_backstage")
class BackstageImportView(CatalogImportView):
    """Backstage `catalog-info.yaml` (several documents): Components become services, a consumer of an
    API provided by another component an interaction to it (REST, gRPC or async by the API's type),
    `dependsOn` an undecided one. Same 422-with-pointers and all-or-nothing rules as registrations."""

    kind = "backstage"


@catalog_schema("imports_asyncapi")
class AsyncApiImportView(CatalogImportView):
    """AsyncAPI 2 or 3 documents, one application each: producers and consumers of the same channel
    address, across the documents, become an interaction from each producer to its consumers."""

    kind = "asyncapi"


class ImportJobView(APIView):
    """A large catalog import applied by a worker: queued, running (progress 0-100), done with the
    registration report, or failed with the errors and their pointers."""

    @extend_schema(responses={200: dict}, operation_id="imports_job")
    def get(self, request, job_id: int):
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None:
            raise exceptions.NotFound(f"no import job {job_id}")
        return Response(job_dict(job))


class DriftView(APIView):
    """The declared topology against the newest observed dependencies: undeclared (observed, with call
    counts), unobserved (declared, source traced, never called), untraced (the source is not in the
    export) and matched pairs."""

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=list(STATUSES)), OpenApiParameter("service", str)],
                   responses={200: dict}, operation_id="drift_retrieve")
    def get(self, request):
        wanted, service = request.query_params.get("status"), request.query_params.get("service")
        if wanted and wanted not in STATUSES:
            raise exceptions.ValidationError({"status": f"must be one of {', '.join(STATUSES)}"})
        snapshot = snapshot_current()
        drift = drift_current(snapshot=snapshot) if snapshot else None
        rows = [row for row in (drift.rows if drift else ()) if (not wanted or row.status == wanted)
                and (not service or service in (row.source, row.target))]
        return Response({"snapshot": snapshot_dict(snapshot) if snapshot else None,
                         "counts": drift.counts if drift else {}, "results": [row.as_dict() for row in rows]})
