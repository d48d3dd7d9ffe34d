"""The form that asks for a report: which scope."""
from django import forms

from core.errors import Invalid
from topology.rendering import MAX_HOPS
from topology.selectors import team_list

from .choices import ScopeKind
from .scopes import ReportScope, scope_from_body


class ReportScopeForm(forms.Form):
    scope = forms.ChoiceField(choices=ScopeKind.choices, initial=ScopeKind.SYSTEM, widget=forms.RadioSelect)
    team = forms.ChoiceField(required=False, label="Team")
    service = forms.CharField(required=False, max_length=63, label="Service",
                              widget=forms.TextInput(attrs={"placeholder": "e.g. orders"}))
    hops = forms.IntegerField(required=False, min_value=1, max_value=MAX_HOPS, initial=1, label="Hops")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "Choose a team")] + [(t.slug, str(t)) for t in team_list()]

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("scope") or ScopeKind.SYSTEM
        keys = {ScopeKind.TEAM: ("team",), ScopeKind.SERVICE: ("service", "hops")}.get(kind, ())
        body = {"scope": kind, **{key: data[key] for key in keys if data.get(key) not in (None, "")}}
        try:
            data["report_scope"] = scope_from_body(body)
        except Invalid as exc:
            for error in exc.errors:
                field = error["pointer"].strip("/") or None
                self.add_error(field if field in self.fields else None, error["message"])
        return data

    @property
    def report_scope(self) -> ReportScope:
        return self.cleaned_data["report_scope"]
