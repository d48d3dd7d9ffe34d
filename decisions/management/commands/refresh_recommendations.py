from django.core.management.base import BaseCommand

from decisions.models import EvaluationRun
from decisions.recommendations import recommendations_refresh, ruleset_current


class Command(BaseCommand):
    help = "Re-evaluate every interaction that is not on the current ruleset version, here and now."

    def handle(self, *args, **options):
        run = EvaluationRun.objects.create(ruleset_version=ruleset_current().version, reason="refresh_recommendations")
        run = recommendations_refresh(run_id=run.id)
        self.stdout.write(f"Ruleset {run.ruleset_version}: {run.done} interactions re-evaluated, "
                          f"{run.changed} changed ({run.status}).")
