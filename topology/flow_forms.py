"""Forms of the flow pages: a flow written as text (one step a line), and the entry of a derived flow.

The flow form only parses the text into the plain steps `flows.flow_save` takes; that service checks
them, and its errors (with JSON pointers) are put back on the fields here, naming the line of a bad step.
"""
import re

from django import forms

from .models import Flow

STEP_POINTER = re.compile(r"/steps/(\d+)(?:/.*)?")
FIELD_OF_POINTER = {"/slug": "slug", "/name": "name", "/description": "description", "/team": "team",
                    "/steps": "steps"}
DEPTH_DEFAULT, DEPTH_MAX = 6, 12
STEPS_HELP = ("One interaction a line, as service/interaction, in the order they happen. "
              "Add | and a label to say what the message carries, e.g. accounts/user-registered | UserRegistered.")


def steps_text(flow: Flow) -> str:
    """A saved flow's steps as the form writes them (uses the prefetched steps)."""
    lines = []
    for step in flow.steps.all():
        key = f"{step.interaction.source.name}/{step.interaction.name}"
        lines.append(f"{key} | {step.label}" if step.label else key)
    return "\n".join(lines)


class FlowForm(forms.Form):
    slug = forms.CharField(label="Slug", help_text="The flow's address: lower-case letters, digits and dashes.")
    name = forms.CharField(label="Name", max_length=200, help_text="E.g. “User registration”.")
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    team = forms.ModelChoiceField(label="Team", queryset=None, help_text="Its maintainers may change the flow.")
    steps = forms.CharField(label="Steps", help_text=STEPS_HELP,
                            widget=forms.Textarea(attrs={"rows": 10, "class": "mono", "spellcheck": "false"}))

    def __init__(self, *args, teams, allow_no_team: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams.order_by("slug")
        if allow_no_team:
            self.fields["team"].required = False
            self.fields["team"].empty_label = "— no team (administrators only) —"
        self.lines: list[int] = []  # the line number of each parsed step

    @classmethod
    def initial_of(cls, flow: Flow) -> dict:
        return {"slug": flow.slug, "name": flow.name, "description": flow.description, "team": flow.team,
                "steps": steps_text(flow)}

    def clean_steps(self) -> list[dict]:
        """'service/interaction | label' lines -> [{interaction, label}]; blank lines are skipped."""
        steps, self.lines = [], []
        for number, line in enumerate(self.cleaned_data["steps"].splitlines(), start=1):
            if not line.strip():
                continue
            key, _, label = line.partition("|")
            steps.append({"interaction": key.strip(), "label": label.strip()})
            self.lines.append(number)
        if not steps:
            raise forms.ValidationError("Write at least one step, as service/interaction.")
        return steps

    def add_save_errors(self, errors: list[dict]) -> None:
        """Errors of flows.flow_save ({pointer, message}) onto their fields; /steps/<n>/... names the line."""
        for error in errors:
            pointer, message = error.get("pointer", ""), error.get("message", "")
            step = STEP_POINTER.fullmatch(pointer)
            if step:
                index = int(step.group(1))
                line = self.lines[index] if index < len(self.lines) else index + 1
                self.add_error("steps", f"Line {line}: {message}")
            else:
                self.add_error(FIELD_OF_POINTER.get(pointer), message)


class DeriveForm(forms.Form):
    """The entry service of a flow derived by following its interactions, and how deep to follow them."""

    entry = forms.CharField(label="Entry service", help_text="Where the flow starts, e.g. the service a user calls.")
    depth = forms.IntegerField(label="Depth", min_value=1, max_value=DEPTH_MAX, required=False,
                               help_text=f"How many calls deep to follow (1-{DEPTH_MAX}).")

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.services = services

    def clean_entry(self) -> str:
        entry = self.cleaned_data["entry"].strip()
        if entry not in self.services:
            raise forms.ValidationError(f"No service is named {entry!r}.")
        return entry

    def clean_depth(self) -> int:
        return self.cleaned_data["depth"] or DEPTH_DEFAULT
