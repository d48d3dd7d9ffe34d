"""The decision form: MADR fields as text a person can edit, parsed into the service's values.

Drivers are one per line. Options are one per paragraph (blank lines between them): the first line is
the option's name, lines starting with "+ " are pros, lines starting with "- " are cons, and any other
lines describe it. Rules about the whole record (an override needs a justification, ...) are checked
by decisions.services and put next to the field they point at.
"""
import json

from django import forms

from topology.choices import Style

from .choices import DecisionKind, DecisionStatus
from .filtersets import CODE
from .models import Decision
from .selectors import interactions_by_keys

OPTIONS_HELP = ("One option per paragraph, blank lines between them: the first line is the name, "
                "lines starting with “+ ” are pros, “- ” cons, other lines describe it.")
OPTIONS_PLACEHOLDER = ("request-response\nA synchronous call.\n+ the caller gets the answer at once\n"
                       "- couples the two in time\n\npub-sub\n…")
FIELD_OF_POINTER = {"team": "team", "interactions": "interactions", "supersedes": "supersedes"}


def lines_parse(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def options_parse(text: str) -> list[dict]:
    """The options textarea -> [{name, description, pros, cons}]; raises ValidationError naming the line."""
    options, problems, current = [], [], None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            current = None
            continue
        marker = line[0] if line[0] in "+-" and (len(line) == 1 or line[1] == " ") else ""
        if current is None:
            if marker:
                problems.append(f"line {number}: an option starts with its name, not with a pro or con")
                continue
            current = {"name": line, "description": "", "pros": [], "cons": []}
            options.append(current)
        elif marker:
            item = line[1:].strip()
            if item:
                current["pros" if marker == "+" else "cons"].append(item)
        else:
            current["description"] = f"{current['description']}\n{line}".strip()
    if problems:
        raise forms.ValidationError(problems)
    return options


def options_format(options: list[dict]) -> str:
    paragraphs = []
    for option in options or []:
        lines = [option.get("name", "")]
        lines += [line for line in (option.get("description") or "").splitlines() if line.strip()]
        lines += [f"+ {item}" for item in option.get("pros") or []]
        lines += [f"- {item}" for item in option.get("cons") or []]
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _textarea(rows: int, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


class DecisionForm(forms.Form):
    title = forms.CharField(max_length=200)
    status = forms.ChoiceField(choices=DecisionStatus.choices, initial=DecisionStatus.PROPOSED)
    kind = forms.ChoiceField(choices=DecisionKind.choices, initial=DecisionKind.GENERAL,
                             help_text="An override needs a justification and the declared style it keeps.")
    team = forms.ModelChoiceField(queryset=None, to_field_name="slug", required=False, label="Deciders (team)")
    decided_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="Left empty, an accepted or rejected decision is dated today.")
    interactions = forms.CharField(
        required=False, widget=_textarea(2, spellcheck="false"), label="Interactions",
        help_text="The interactions it settles, one per line as service/interaction, e.g. orders/authorize-payment.",
    )
    supersedes = forms.CharField(required=False, max_length=20, label="Supersedes",
                                 help_text="The code of the decision this one replaces, e.g. ADR-0003.")
    context = forms.CharField(required=False, widget=_textarea(8), label="Context and problem statement")
    drivers = forms.CharField(required=False, widget=_textarea(5), label="Decision drivers", help_text="One per line.")
    options = forms.CharField(required=False, widget=_textarea(12, placeholder=OPTIONS_PLACEHOLDER, spellcheck="false"),
                              label="Considered options", help_text=OPTIONS_HELP)
    outcome = forms.CharField(required=False, max_length=200, label="Chosen option",
                              help_text="The name of the option chosen, e.g. request-response over REST.")
    chosen_style = forms.ChoiceField(choices=[("", "None"), *Style.choices], required=False, label="Settled style",
                                     help_text="For decisions about an interaction: the declared style it settles.")
    justification = forms.CharField(required=False, widget=_textarea(4),
                                    help_text="Why this option. Required for an override.")
    consequences_good = forms.CharField(required=False, widget=_textarea(4), label="Good consequences",
                                        help_text="One per line, e.g. “Good, because …”.")
    consequences_bad = forms.CharField(required=False, widget=_textarea(4), label="Bad consequences",
                                       help_text="One per line, e.g. “Bad, because …”.")
    recommendation = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, teams, staff: bool = False, decision: Decision | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision = decision
        self.fields["team"].queryset = teams
        # Only staff may write a decision without a team.
        self.fields["team"].required = not staff
        self.fields["team"].empty_label = "No team" if staff else None
        superseded = decision is not None and decision.status == DecisionStatus.SUPERSEDED
        if superseded:
            self.fields["status"].disabled = True
            self.fields["status"].help_text = "A superseded decision stays superseded."
        else:
            self.fields["status"].choices = [c for c in DecisionStatus.choices if c[0] != DecisionStatus.SUPERSEDED]

    # --- parsing -----------------------------------------------------------------------------

    def clean_drivers(self):
        return lines_parse(self.cleaned_data["drivers"])

    def clean_options(self):
        return options_parse(self.cleaned_data["options"])

    def clean_interactions(self):
        keys = list(dict.fromkeys(part.strip() for part in self.cleaned_data["interactions"].replace(",", "\n")
                                  .splitlines() if part.strip()))
        found, missing = interactions_by_keys(keys=keys)
        if missing:
            raise forms.ValidationError(f"no interaction {', '.join(missing)} (write service/interaction)")
        return found

    def clean_supersedes(self):
        raw = self.cleaned_data["supersedes"].strip()
        if not raw:
            return None
        match = CODE.match(raw)
        decision = Decision.objects.filter(number=int(match.group(1))).first() if match else None
        if decision is None:
            raise forms.ValidationError(f"no decision {raw} (write its code, e.g. ADR-0003)")
        return decision

    def clean_recommendation(self):
        raw = self.cleaned_data["recommendation"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("the recommendation snapshot is not valid JSON") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("the recommendation snapshot must be an object")
        return value

    def values(self) -> dict:
        """The keyword arguments of decision_create / decision_update."""
        data = dict(self.cleaned_data)
        if self.fields["status"].disabled:
            data.pop("status")
        return data

    def add_service_errors(self, errors: list[dict]) -> None:
        """Put the service's [{pointer, message}] next to the fields they point at."""
        for error in errors:
            parts = error["pointer"].strip("/").split("/")
            name, message = parts[0], error["message"]
            if name in ("drivers",) and len(parts) > 1 and parts[1].isdigit():
                message = f"driver {int(parts[1]) + 1}: {message}"
            elif name == "options" and len(parts) > 1 and parts[1].isdigit():
                message = f"option {int(parts[1]) + 1}: {message}"
            if name in self.fields and not self.fields[name].disabled and not isinstance(
                    self.fields[name].widget, forms.HiddenInput):
                self.add_error(name, message)
            else:
                self.add_error(None, message)

    # --- initial values ----------------------------------------------------------------------

    @classmethod
    def initial_for(cls, decision: Decision) -> dict:
        return {
            **{name: getattr(decision, name) for name in (
                "title", "status", "kind", "decided_on", "context", "outcome", "chosen_style", "justification",
                "consequences_good", "consequences_bad")},
            "team": decision.team.slug if decision.team_id else None,
            "interactions": "\n".join(item.key for item in decision.interactions.all()),
            "supersedes": decision.supersedes.code if decision.supersedes_id else "",
            "drivers": "\n".join(decision.drivers or []),
            "options": options_format(decision.options),
            "recommendation": json.dumps(decision.recommendation) if decision.recommendation else "",
        }

    @classmethod
    def initial_for_draft(cls, draft: dict) -> dict:
        """Initial values from decision_draft_for (or any dict of decision field values)."""
        team = draft.get("team")
        supersedes = draft.get("supersedes")
        return {
            **{name: draft.get(name, "") for name in (
                "title", "status", "kind", "context", "outcome", "chosen_style", "justification",
                "consequences_good", "consequences_bad")},
            "team": team.slug if team else None,
            "interactions": "\n".join(item.key for item in draft.get("interactions") or []),
            "supersedes": supersedes.code if supersedes else "",
            "drivers": "\n".join(draft.get("drivers") or []),
            "options": options_format(draft.get("options") or []),
            "recommendation": json.dumps(draft["recommendation"]) if draft.get("recommendation") else "",
        }
