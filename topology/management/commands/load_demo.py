import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.actors import actor_for_import
from topology.choices import TeamRole
from topology.manifest import manifest_parse, manifest_validate
from topology.models import Team
from topology.registration import registration_apply
from topology.services import team_create, team_member_set
from topology.signals import demo_loaded

MANIFEST = Path(__file__).resolve().parents[2] / "demo" / "shop.yaml"
TEAMS = {
    "commerce": "Commerce",
    "identity": "Identity",
    "platform": "Platform",
}
# username -> (staff, {team: role})
USERS = {
    "admin": (True, {}),
    "maria": (False, {"commerce": TeamRole.MAINTAINER, "platform": TeamRole.VIEWER}),
    "ivan": (False, {"identity": TeamRole.MAINTAINER}),
    "paula": (False, {"platform": TeamRole.MAINTAINER, "commerce": TeamRole.VIEWER}),
    "victor": (False, {"commerce": TeamRole.VIEWER, "identity": TeamRole.VIEWER, "platform": TeamRole.VIEWER}),
}


class Command(BaseCommand):
    help = "Load the demo shop: 3 teams, about 15 services, demo users (passwords written to var/)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any team exists.")

    def handle(self, *args, if_empty, **options):
        if if_empty and Team.objects.exists():
            self.stdout.write("Data already present; demo not loaded.")
            return
        created = self._load()
        credentials = Path(settings.VAR_DIR) / "demo-credentials.txt"
        if created:
            self._write_credentials(credentials, created)
        report = self._register()
        demo_loaded.send(sender=self.__class__, actor=actor_for_import())
        summary = report["summary"]["services"]
        self.stdout.write(
            f"Demo loaded: {summary['created']} services created, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged; placeholders {', '.join(report['placeholders']['created']) or 'none new'}."
        )
        self.stdout.write(f"Demo users and passwords: {credentials}")

    @transaction.atomic
    def _load(self) -> dict[str, str]:
        actor = actor_for_import()
        teams = {slug: Team.objects.filter(slug=slug).first() or team_create(actor=actor, slug=slug, name=name)
                 for slug, name in TEAMS.items()}
        passwords = {}
        for username, (staff, roles) in USERS.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                passwords[username] = secrets.token_urlsafe(9)
                user = User.objects.create_user(username, password=passwords[username], is_staff=staff,
                                                is_superuser=staff)
            for slug, role in roles.items():
                team_member_set(actor=actor, team=teams[slug], user=user, role=role)
        return passwords

    def _register(self) -> dict:
        result = manifest_validate(manifest_parse(MANIFEST.read_bytes(), "application/yaml"))
        if result.errors:
            raise CommandError(f"the demo manifest is invalid: {result.errors}")
        return registration_apply(specs=result.services, actor=actor_for_import())

    def _write_credentials(self, path: Path, passwords: dict[str, str]) -> None:
        lines = ["Switchboard demo users (user  password  roles)"]
        for username, password in passwords.items():
            staff, roles = USERS[username]
            described = "administrator" if staff else ", ".join(f"{role} of {team}" for team, role in roles.items())
            lines.append(f"{username:<8} {password:<14} {described}")
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
