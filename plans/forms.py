"""The plan form: up to five changes (an interaction and what it should become, or its removal) and
up to three new interactions (a service, a name, the services it reaches and how)."""
import re

from django import forms

from .changes import BROKERS, STYLES

ROWS = 5
NEW_ROWS = 3
CHANGE_FIELDS = ("interaction", "style", "channel", "broker", "remove")
NEW_FIELDS = ("new_source", "new_name", "new_to", "new_style", "new_channel", "new_broker")
POINTER = re.compile(r"^/changes/(\d+)")
def _styles(empty: str) -> list[tuple[str, str]]:
    return [("", empty)] + [(s, s) for s in STYLES]


def _brokers(empty: str) -> list[tuple[str, str]]:
    return [("", empty)] + [(b, b) for b in BROKERS]


class PlanForm(forms.Form):
    def __init__(self, *args, interactions: list[str], services: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(key, key) for key in interactions]
        for n in range(ROWS):
            self.fields[f"interaction_{n}"] = forms.ChoiceField(choices=choices, required=False, label="Interaction")
            self.fields[f"style_{n}"] = forms.ChoiceField(choices=_styles("unchanged"), required=False, label="Style")
            self.fields[f"channel_{n}"] = forms.CharField(required=False, max_length=200, label="Channel")
            self.fields[f"broker_{n}"] = forms.ChoiceField(choices=_brokers("unchanged"), required=False, label="Broker")
            self.fields[f"remove_{n}"] = forms.BooleanField(required=False, label="Remove")
        sources = [("", "—")] + [(name, name) for name in services]
        for n in range(NEW_ROWS):
            self.fields[f"new_source_{n}"] = forms.ChoiceField(choices=sources, required=False, label="From service")
            self.fields[f"new_name_{n}"] = forms.CharField(required=False, max_length=63, label="Name")
            self.fields[f"new_to_{n}"] = forms.CharField(required=False, max_length=2000, label="To (services)",
                                                         help_text="service names, separated by commas")
            self.fields[f"new_style_{n}"] = forms.ChoiceField(choices=_styles("undecided"), required=False, label="Style")
            self.fields[f"new_channel_{n}"] = forms.CharField(required=False, max_length=200, label="Channel")
            self.fields[f"new_broker_{n}"] = forms.ChoiceField(choices=_brokers("—"), required=False, label="Broker")

    def rows(self) -> list[list]:
        return [[self[f"{name}_{n}"] for name in CHANGE_FIELDS] for n in range(ROWS)]

    def new_rows(self) -> list[list]:
        return [[self[f"{name}_{n}"] for name in NEW_FIELDS] for n in range(NEW_ROWS)]

    def filled(self) -> list:
        """The fields holding a value (carried in the save form as hidden inputs)."""
        return [field for field in self if field.value() not in (None, "", False)]

    def body(self) -> dict:
        """The changes as the API takes them (empty rows are left out)."""
        return {"changes": [change for change, _ in self._changes()]}

    def row_labels(self) -> list[str]:
        """For each change of body(), the row of the form it came from."""
        return [label for _, label in self._changes()]

    def _changes(self) -> list[tuple[dict, str]]:
        data, found = self.cleaned_data, []
        for n in range(ROWS):
            key = data.get(f"interaction_{n}")
            if not key:
                continue
            change = {"interaction": key}
            for name in ("style", "channel", "broker"):
                if data.get(f"{name}_{n}"):
                    change[name] = data[f"{name}_{n}"]
            if data.get(f"remove_{n}"):
                change["remove"] = True
            found.append((change, f"change {n + 1}"))
        for n in range(NEW_ROWS):
            source, name, to = (data.get(f"new_{key}_{n}", "").strip() for key in ("source", "name", "to"))
            if not (source or name or to):
                continue
            change = {"interaction": f"{source}/{name}", "add": True}
            if to:
                change["to"] = [target for target in re.split(r"[\s,]+", to) if target]
            for key in ("style", "channel", "broker"):
                if data.get(f"new_{key}_{n}"):
                    change[key] = data[f"new_{key}_{n}"]
            found.append((change, f"new interaction {n + 1}"))
        return found

    def errors_labelled(self, errors: list[dict]) -> list[dict]:
        """The errors of body(), each with the row of the form it is about ("change 2", "new interaction 1")."""
        labels = self.row_labels()
        labelled = []
        for error in errors:
            found = POINTER.match(error.get("pointer", ""))
            row = labels[int(found.group(1))] if found and int(found.group(1)) < len(labels) else ""
            labelled.append({**error, "row": row})
        return labelled

