"""The plan form: up to five changes, each an interaction and what it should become."""
from django import forms

from .changes import BROKERS, STYLES

ROWS = 5


class PlanForm(forms.Form):
    def __init__(self, *args, interactions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(key, key) for key in interactions]
        for n in range(ROWS):
            self.fields[f"interaction_{n}"] = forms.ChoiceField(choices=choices, required=False, label="Interaction")
            self.fields[f"style_{n}"] = forms.ChoiceField(choices=[("", "unchanged")] + [(s, s) for s in STYLES],
                                                          required=False, label="Style")
            self.fields[f"channel_{n}"] = forms.CharField(required=False, max_length=200, label="Channel")
            self.fields[f"broker_{n}"] = forms.ChoiceField(choices=[("", "unchanged")] + [(b, b) for b in BROKERS],
                                                           required=False, label="Broker")
            self.fields[f"remove_{n}"] = forms.BooleanField(required=False, label="Remove")

    def rows(self) -> list[list]:
        return [[self[f"{name}_{n}"] for name in ("interaction", "style", "channel", "broker", "remove")]
                for n in range(ROWS)]

    def body(self) -> dict:
        """The changes as the API takes them (rows without an interaction are left out)."""
        changes = []
        for n in range(ROWS):
            key = self.cleaned_data.get(f"interaction_{n}")
            if not key:
                continue
            change = {"interaction": key}
            for name in ("style", "channel", "broker"):
                if self.cleaned_data.get(f"{name}_{n}"):
                    change[name] = self.cleaned_data[f"{name}_{n}"]
            if self.cleaned_data.get(f"remove_{n}"):
                change["remove"] = True
            changes.append(change)
        return {"changes": changes}
