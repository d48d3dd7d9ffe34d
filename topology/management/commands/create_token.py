from django.core.management.base import BaseCommand, CommandError

from core.actors import actor_for_cli
from topology.models import Team
from topology.services import TOKEN_MAX_DAYS, token_create


class Command(BaseCommand):
    help = "Create an API token for a team. The token is printed alone on the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("--team", required=True, help="Team slug.")
        parser.add_argument("--name", required=True, help="Token name, unique within the team (e.g. ci).")
        parser.add_argument("--expires-in-days", type=int, default=None, metavar="N",
                            help=f"Refuse the token N days from now (1-{TOKEN_MAX_DAYS}); default: never expires.")

    def handle(self, *args, team, name, expires_in_days=None, **options):
        found = Team.objects.filter(slug=team).first()
        if found is None:
            raise CommandError(f"team {team!r} does not exist; create it with: manage.py create_team {team}")
        if not name.strip() or len(name) > 100:
            raise CommandError("--name must be 1-100 characters")
        if expires_in_days is not None and not 1 <= expires_in_days <= TOKEN_MAX_DAYS:
            raise CommandError(f"--expires-in-days must be 1-{TOKEN_MAX_DAYS} (or left out: never expires)")
        if found.tokens.filter(name=name).exists():
            raise CommandError(f"team {team!r} already has a token named {name!r}")
        token, raw = token_create(actor=actor_for_cli(), team=found, name=name, expires_in_days=expires_in_days)
        expiry = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
        self.stderr.write(f"Token {token.name} of team {found.slug} (prefix {token.prefix}{expiry}); it is shown only once:")
        self.stdout.write(raw)
