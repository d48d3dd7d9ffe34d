"""Celery tasks of the decisions app: thin shells around one service call each."""
from celery import shared_task

from .recommendations import evaluation_run_if_stale, recommendations_refresh


@shared_task(name="decisions.tasks.recommendations_refresh", ignore_result=True, acks_late=True)
def recommendations_refresh_task(run_id: int) -> None:
    """Re-evaluate every interaction for one EvaluationRun; a redelivery of a finished run does nothing."""
    recommendations_refresh(run_id=run_id)


@shared_task(name="decisions.tasks.recommendations_refresh_stale", ignore_result=True)
def recommendations_refresh_stale_task() -> None:
    """Scheduled by beat: re-evaluate interactions left on an older ruleset version, if any."""
    evaluation_run_if_stale(reason="interactions on an older ruleset version")
