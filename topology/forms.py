"""Browser forms. They check fields with the same rules as the manifest (validation.py)."""
from django import forms

from .criteria import BOOL, CHOICE, CRITERIA, INTEGER, anchor

from . import validation as v
from .choices import Broker, Lifecycle, Style, TeamRole
from .manifest import InteractionSpec
from .models import Service, Team

YES_NO = [("", "Not answered"), ("yes", "Yes"), ("no", "No")]
CRITERION_PREFIX = "criteria_"


def _raise(problem: str | None) -> None:
    if problem:
        raise forms.ValidationError(problem)


def labels_parse(text: str) -> dict:
    """'key=value' lines -> dict; raises ValidationError naming the bad line."""
    labels = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise forms.ValidationError(f"line {number}: write labels as key=value")
        labels[key.strip()] = value.strip()
    errors = v.labels_errors(labels)
    if errors:
        raise forms.ValidationError([message for _, message in errors])
    return labels


def labels_format(labels: dict) -> str:
    return "\n".join(f"{key}={value}" for key, value in sorted(labels.items()))


class ServiceForm(forms.Form):
    name = forms.CharField(max_length=63, help_text="Lower-case letters, digits and dashes; cannot change later.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), to_field_name="slug", empty_label=None)
    title = forms.CharField(max_length=v.MAX_TITLE, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  max_length=v.MAX_DESCRIPTION)
    lifecycle = forms.ChoiceField(choices=Lifecycle.choices, initial=Lifecycle.PRODUCTION)
    language = forms.CharField(max_length=v.MAX_LANGUAGE, required=False)
    repository = forms.CharField(max_length=v.MAX_REPOSITORY, required=False,
                                 help_text="e.g. https://git.example.com/team/repo")
    labels = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             help_text="One key=value per line, e.g. tier=critical")

    def __init__(self, *args, teams, service: Service | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service
        self.fields["team"].queryset = teams
        if service is not None and not service.is_placeholder:
            self.fields["name"].disabled = True

    def clean_name(self):
        name = self.cleaned_data["name"]
        _raise(v.name_error(name))
        if self.service is None:
            existing = Service.objects.filter(name=name).select_related("team").first()
            if existing and not existing.is_placeholder:
                raise forms.ValidationError(f"a service named {name!r} already exists (team {existing.team.slug})")
        return name

    def clean_repository(self):
        _raise(v.repository_error(self.cleaned_data["repository"]))
        return self.cleaned_data["repository"]

    def clean_labels(self):
        return labels_parse(self.cleaned_data["labels"])

    @classmethod
    def initial_for(cls, service: Service) -> dict:
        return {
            "name": service.name, "team": service.team.slug if service.team_id else None,
            "title": service.title, "description": service.description, "lifecycle": service.lifecycle,
            "language": service.language, "repository": service.repository,
            "labels": labels_format(service.labels),
        }


class InteractionForm(forms.Form):
    name = forms.CharField(max_length=63, help_text="Lower-case letters, digits and dashes.")
    to = forms.CharField(
        label="Targets", max_length=2000,
        help_text="Service names separated by commas. A name nobody registered yet becomes a placeholder.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                  max_length=v.MAX_DESCRIPTION)
    style = forms.ChoiceField(choices=[("", "Undecided"), *Style.choices], required=False)
    channel = forms.CharField(max_length=249, required=False, help_text="Topic or queue name (pubsub and queue).")
    broker = forms.ChoiceField(choices=[("", "None"), *Broker.choices], required=False)

    def __init__(self, *args, source: Service, interaction_names: set[str], editing: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        self.taken = interaction_names - {editing} if editing else interaction_names
        for criterion in CRITERIA:
            self.fields[CRITERION_PREFIX + criterion.key] = criterion_field(criterion)

    def criteria_rows(self) -> list[dict]:
        return [
            {"field": self[CRITERION_PREFIX + c.key], "criterion": c, "anchor": anchor(c.cites)}
            for c in CRITERIA
        ]

    def clean_name(self):
        name = self.cleaned_data["name"]
        _raise(v.name_error(name, what="interaction name"))
        if name in self.taken:
            raise forms.ValidationError(f"{self.source.name} already has an interaction named {name!r}")
        return name

    def clean_to(self):
        names = [part.strip() for part in self.cleaned_data["to"].replace("\n", ",").split(",") if part.strip()]
        errors = v.targets_errors(names, source=self.source.name)
        if errors:
            raise forms.ValidationError([message for _, message in errors])
        return names

    def clean(self):
        data = super().clean()
        for pointer, message in v.channel_errors(style=data.get("style", ""), channel=data.get("channel", ""),
                                                  broker=data.get("broker", "")):
            self.add_error(pointer.lstrip("/"), message)
        criteria = {c.key: criterion_value(c, data.get(CRITERION_PREFIX + c.key)) for c in CRITERIA}
        for pointer, message in v.criteria_errors(criteria):
            self.add_error(CRITERION_PREFIX + pointer.lstrip("/"), message)
        data["criteria"] = v.criteria_clean(criteria)
        return data

    def spec(self) -> InteractionSpec:
        data = self.cleaned_data
        return InteractionSpec(
            name=data["name"], targets=tuple(data["to"]), description=data["description"], style=data["style"],
            channel=data["channel"], broker=data["broker"], criteria=data["criteria"],
        )

    @classmethod
    def initial_for(cls, spec: InteractionSpec) -> dict:
        initial = {
            "name": spec.name, "to": ", ".join(spec.targets), "description": spec.description,
            "style": spec.style, "channel": spec.channel, "broker": spec.broker,
        }
        for key, value in spec.criteria.items():
            initial[CRITERION_PREFIX + key] = ("yes" if value else "no") if isinstance(value, bool) else value
        return initial


def criterion_field(criterion) -> forms.Field:
    label = criterion.question
    if criterion.kind == BOOL:
        return forms.ChoiceField(label=label, choices=YES_NO, required=False, help_text=criterion.help)
    if criterion.kind == CHOICE:
        choices = [("", "Not answered"), *[(c, c.capitalize()) for c in criterion.choices]]
        return forms.ChoiceField(label=label, choices=choices, required=False, help_text=criterion.help)
    field_class = forms.IntegerField if criterion.kind == INTEGER else forms.FloatField
    return field_class(label=label, required=False, min_value=criterion.minimum, max_value=criterion.maximum,
                       help_text=criterion.help)


def criterion_value(criterion, raw):
    if criterion.kind == BOOL:
        return {"yes": True, "no": False}.get(raw)
    return raw if raw not in ("", None) else None


class MemberAddForm(forms.Form):
    """Add a user to a team (the team page). The service checks the user exists and is not a member yet."""

    prefix = "member"
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={
        "autocomplete": "off", "spellcheck": "false", "placeholder": "e.g. jdoe"}))
    role = forms.ChoiceField(choices=TeamRole.choices, initial=TeamRole.VIEWER,
                             widget=forms.Select(attrs={"class": "select-auto"}))

    def refusal_show(self, errors: list[dict]) -> None:
        """Put a refusal's errors ({"pointer": "/username", ...}) on the fields they point at."""
        for error in errors:
            field = error["pointer"].lstrip("/")
            self.add_error(field if field in self.fields else None, error["message"])


class TokenCreateForm(forms.Form):
    """A new API token on the team page: a name, and optionally the days until it expires."""

    name = forms.CharField(max_length=100, strip=True,
                           error_messages={"required": "A token needs a name of at most 100 characters.",
                                           "max_length": "A token needs a name of at most 100 characters."})
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=3650, error_messages={
        "invalid": "Expires in: a whole number of days (1 to 3650), or empty for never.",
        "min_value": "Expires in: a whole number of days (1 to 3650), or empty for never.",
        "max_value": "Expires in: a whole number of days (1 to 3650), or empty for never.",
    })
