"""The drift page: the declared topology against the newest observed dependencies, and the upload of a
new dependency export (preview what it shows, then confirm)."""
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import Forbidden, Invalid
from topology.authentication import ui_actor
from topology.selectors import team_list

from .catalog_services import catalog_import, catalog_parse, documents_joined, source_name
from .choices import SourceKind
from .dependencies import dependencies_parse
from .jobs import import_job_request
from .models import ImportJob
from .drift import MATCHED, UNDECLARED, UNOBSERVED, UNTRACED
from .selectors import drift_current, import_sources, snapshot_current, snapshot_list
from .services import dependencies_import, importer_require

PREVIEW_SECONDS = 600  # how long an uploaded export waits for its confirmation
SECTIONS = ((UNDECLARED, "Observed but not declared", "Calls tracing saw that no interaction declares."),
            (UNOBSERVED, "Declared but never observed", "Their source is traced, yet these links saw no call."),
            (UNTRACED, "Not covered by tracing", "Their source does not appear in the export at all."),
            (MATCHED, "Declared and observed", "The registry and tracing agree."))


def _page(request, *, status: int = 200, **extra):
    snapshot = snapshot_current()
    drift = drift_current(snapshot=snapshot) if snapshot else None
    sections = [{"status": key, "title": title, "help": text, "rows": drift.of(key)} for key, title, text in SECTIONS] \
        if drift else []
    return render(request, "imports/drift.html", {
        "snapshot": snapshot, "drift": drift, "sections": sections, "history": snapshot_list()[:10],
        "can_import": _may_import(request), **extra}, status=status)


def _may_import(request) -> bool:
    try:
        importer_require(ui_actor(request))
    except Forbidden:
        return False
    return True


@login_required
def drift_page(request):
    return _page(request)


@login_required
@require_POST
def drift_preview(request):
    """What the uploaded export would show, before anything is stored."""
    if not _may_import(request):
        raise PermissionDenied("Only administrators and team maintainers import observed dependencies.")
    documents, problem = _uploads(request)
    text = documents[0][1] if documents else None
    found = dependencies_parse(text) if text is not None else None
    if found is None or found.errors:
        errors = list(found.errors) if found else [{"pointer": "file", "message": problem}]
        return _page(request, status=422, upload_errors=errors)
    key = _stash("dependencies", text)
    report = dependencies_import(actor=ui_actor(request), found=found, dry_run=True)
    return _page(request, preview=report, preview_key=key, preview_name=documents[0][0])


def _stash(prefix: str, value) -> str:
    """Keep what a preview read until it is confirmed; returns the key the form sends back."""
    key = uuid.uuid4().hex
    cache.set(f"imports:{prefix}:{key}", value, PREVIEW_SECONDS)
    return key


def _unstash(request, prefix: str):
    """What the preview kept, taken (a confirmation is used once); None when it expired."""
    key = f"imports:{prefix}:{request.POST.get('key', '')}"
    value = cache.get(key)
    cache.delete(key)
    return value


@login_required
@require_POST
def drift_confirm(request):
    text = _unstash(request, "dependencies")
    if text is None:
        messages.error(request, "That preview has expired; upload the export again.")
        return redirect("drift")
    try:
        report = dependencies_import(actor=ui_actor(request), found=dependencies_parse(text))
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(request, "Imported: drift now compares with this export." if report["created"]
                     else "Nothing changed: this export is the one imported last.")
    return redirect("drift")


# --- catalog imports (Backstage, AsyncAPI) -------------------------------------------------------

@login_required
def import_page(request):
    wanted = request.GET.get("job", "")
    job = ImportJob.objects.filter(pk=int(wanted)).first() if wanted.isascii() and wanted.isdecimal() else None
    return _import_page(request, job=job)


@login_required
def import_job_progress(request, job_id: int):
    return render(request, "imports/_job_progress.html", {"job": get_object_or_404(ImportJob, pk=job_id)})


def _import_page(request, *, status: int = 200, **extra):
    return render(request, "imports/import_page.html", {
        "sources": import_sources(), "teams": team_list(), "kinds": SourceKind.choices, **extra}, status=status)


def _uploads(request) -> tuple[list[tuple[str, str]], str]:
    """(name, text) of each uploaded file, or why there are none."""
    files = request.FILES.getlist("file")
    if not files:
        return [], "Choose one or more files to import."
    if sum(upload.size for upload in files) > settings.REGISTRATION_MAX_BYTES:
        return [], f"The files are larger than the limit of {settings.REGISTRATION_MAX_BYTES} bytes together."
    documents = []
    for upload in files:
        raw = upload.read()
        try:
            documents.append((upload.name, raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            return [], (f"{upload.name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                        "save it as UTF-8.")
    return documents, ""


@login_required
@require_POST
def import_preview(request):
    """What the uploaded documents would change, through a dry run of the registration path."""
    kind, team = request.POST.get("kind", ""), request.POST.get("team") or None
    documents, problem = _uploads(request)
    if kind not in SourceKind.values or problem:
        return _import_page(request, status=422, errors=[{"pointer": "file", "message": problem or "Choose a kind."}])
    try:
        name = source_name(request.POST.get("source"), documents[0][0])
    except Invalid as exc:
        return _import_page(request, status=422, errors=exc.errors)
    preview = _catalog_apply(request, kind=kind, name=name, documents=documents, team=team, dry_run=True)
    if "errors" in preview:
        return _import_page(request, status=422, **preview)
    key = _stash("catalog", {"kind": kind, "team": team, "name": name, "documents": documents})
    return _import_page(request, preview=preview["report"], preview_key=key, preview_name=name)


def _catalog_apply(request, *, kind: str, name: str, documents, team, dry_run: bool) -> dict:
    """{"report": ...} or {"errors": [...]} (refusals of the documents or of the registry, with pointers)."""
    try:
        return {"report": catalog_import(actor=ui_actor(request), kind=kind, name=name,
                                         content=documents_joined(documents),
                                         result=catalog_parse(kind=kind, documents=documents, team=team),
                                         dry_run=dry_run)}
    except (Invalid, Forbidden) as exc:
        return {"errors": exc.errors}


@login_required
@require_POST
def import_confirm(request):
    stashed = _unstash(request, "catalog")
    if stashed is None:
        messages.error(request, "That preview has expired; upload the files again.")
        return redirect("import-page")
    if sum(len(text) for _, text in stashed["documents"]) > settings.IMPORT_INLINE_MAX_BYTES:
        try:
            job = import_job_request(actor=ui_actor(request), **stashed)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except Invalid as exc:
            return _import_page(request, status=422, errors=exc.errors)
        return redirect(f"{reverse('import-page')}?job={job.pk}")
    applied = _catalog_apply(request, dry_run=False, **stashed)
    if "errors" in applied:
        return _import_page(request, status=422, **applied)
    messages.success(request, "Nothing changed: these documents were imported already." if applied["report"]["unchanged"]
                     else f"Imported {stashed['name']}.")
    return redirect("import-page")
