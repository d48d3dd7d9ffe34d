"""Large catalog imports as a Celery job: the request keeps the documents and who asked; a worker
applies them through catalog_import, with progress a person can follow, and keeps the report.

The worker acts as the asker does when it runs: the user or token is read again, so a revoked token
or a membership taken away since stops the import."""
import logging

from celery import current_app
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.actors import Actor, actor_for_cli
from core.choices import JobStatus
from core.errors import Forbidden, Invalid, Refused
from topology.models import ApiToken, Service, Team
from topology.selectors import actor_for_token, actor_for_user

from .catalog_services import catalog_import, catalog_parse, documents_joined
from .models import ImportJob

log = logging.getLogger(__name__)

RUN_TASK = "imports.tasks.import_job_run"  # imports.tasks sends it by name: that module imports this one
NO_BROKER = "The task broker did not answer ({error}), so nothing was queued; check CELERY_BROKER_URL and import again."


def import_job_request(*, actor: Actor, kind: str, name: str, team: str | None,
                       documents: list[tuple[str, str]]) -> ImportJob:
    """A queued import job; its task is sent once the row is committed. Refused at once (nothing
    queued) when the documents name services of a team the actor may not write, or services that
    exist under another team, as the import itself would be."""
    job_permission_check(actor=actor, found=catalog_parse(kind=kind, documents=documents, team=team))
    with transaction.atomic():
        job = ImportJob.objects.create(kind=kind, name=name, team=team or "", documents=[list(d) for d in documents],
                                       actor=_stored(actor), step="Waiting for a worker")
        transaction.on_commit(lambda: _queue(job.pk))
    return job


def job_permission_check(*, actor: Actor, found) -> None:
    """What registration would refuse for these documents' services, checked before queueing."""
    wanted = {service.name: service.team for service in found.services}
    teams = dict(Team.objects.filter(slug__in=set(wanted.values())).values_list("slug", "pk"))
    unknown = sorted(set(wanted.values()) - set(teams))
    if unknown:
        raise Invalid([{"pointer": "team", "message": f"no team {slug!r}: create it first, or name the team "
                        "with ?team=" } for slug in unknown])
    if actor.is_staff:
        return
    owners = dict(Service.objects.filter(name__in=wanted, team__isnull=False).values_list("name", "team_id"))
    refused = sorted(name for name, slug in wanted.items()
                     if not actor.can_write_team(teams.get(slug)) or not actor.can_write_team(owners.get(name, teams.get(slug))))
    if refused:
        shown = ", ".join(refused[:10]) + (f" and {len(refused) - 10} more" if len(refused) > 10 else "")
        raise Forbidden(f"{actor.label} may not write {shown}: they belong to teams it does not maintain")


def _stored(actor: Actor) -> dict:
    return {"label": actor.label, "via": actor.via, "user_id": actor.user_id, "token_id": actor.token_id}


def _queue(job_id: int) -> None:
    try:
        current_app.tasks[RUN_TASK].apply_async(args=[job_id], retry=False)
    except OperationalError as exc:
        _failed(job_id, [{"pointer": "", "message": NO_BROKER.format(error=str(exc)[:200])}])


def import_job_run(*, job_id: int) -> None:
    """Apply one queued job (a redelivered task finds it taken and does nothing)."""
    if not ImportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, progress=10, step="Reading the documents"):
        return
    job = ImportJob.objects.get(pk=job_id)
    try:
        report = _applied(job)
    except Refused as exc:
        _failed(job_id, exc.errors)
    except Exception as exc:  # the job must end in a visible state, whatever happened
        log.exception("import job %s failed", job_id)
        _failed(job_id, [{"pointer": "", "message": f"The import failed: {str(exc)[:300]}"}])
    else:
        ImportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.DONE, progress=100, step="Done", report=report, finished_at=timezone.now())


def _applied(job: ImportJob) -> dict:
    documents = [tuple(document) for document in job.documents]
    result = catalog_parse(kind=job.kind, documents=documents, team=job.team or None)
    ImportJob.objects.filter(pk=job.pk).update(progress=40, step="Applying them to the registry")
    return catalog_import(actor=_actor(job.actor), kind=job.kind, name=job.name,
                          content=documents_joined(documents), result=result)


def _actor(stored: dict) -> Actor:
    """The asker as they are now: their user, their token (if not revoked), or the command line."""
    if stored.get("token_id"):
        token = ApiToken.objects.select_related("team").filter(pk=stored["token_id"], revoked_at__isnull=True).first()
        if token is None:
            raise Forbidden(f"{stored['label']} was revoked before the import ran")
        return actor_for_token(token=token)
    if stored.get("user_id"):
        return actor_for_user(user=get_user_model().objects.get(pk=stored["user_id"]), via=stored["via"])
    return actor_for_cli(label=stored["label"])


def _failed(job_id: int, errors: list[dict]) -> None:
    ImportJob.objects.filter(pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
        status=JobStatus.FAILED, step="Failed", errors=errors, finished_at=timezone.now())


def job_dict(job: ImportJob) -> dict:
    return {"id": job.pk, "kind": job.kind, "source": job.name, "status": job.status, "progress": job.progress,
            "step": job.step, "errors": job.errors, "report": job.report, "created_at": job.created_at,
            "finished_at": job.finished_at}
