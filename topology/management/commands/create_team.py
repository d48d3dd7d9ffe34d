from django.core.management.base import BaseCommand, CommandError

from core.actors import actor_for_cli
from topology.models import Team
from topology.services import team_create
from topology.validation import name_error


class Command(BaseCommand):
    help = "Create a team (for bootstrapping CI)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="", help="Display name (default: the slug).")

    def handle(self, *args, slug, name, **options):
        problem = name_error(slug, what="team slug")
        if problem:
            raise CommandError(problem)
        if Team.objects.filter(slug=slug).exists():
            raise CommandError(f"team {slug!r} already exists")
        team = team_create(actor=actor_for_cli(), slug=slug, name=name or slug)
        self.stdout.write(f"Created team {team.slug} ({team.name}).")
