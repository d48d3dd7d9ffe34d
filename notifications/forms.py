"""Forms of the notifications pages. They only shape what a person types; the services check it
(notifications.checks), and their errors are put back on the fields they point at."""
from django import forms

from core.errors import Refused
from core.severity import SEVERITIES
from topology.models import Service

from .choices import SUBSCRIBABLE, ChannelKind, EventType

EVENT_CHOICES = [(value, EventType(value).label) for value in SUBSCRIBABLE]


class ChannelForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="System-wide (staff)")
    name = forms.CharField(max_length=63, help_text="e.g. payments-oncall")
    kind = forms.ChoiceField(choices=ChannelKind.choices, initial=ChannelKind.WEBHOOK)
    url = forms.CharField(required=False, max_length=500, label="URL", help_text="Webhook or Slack-compatible URL")
    addresses = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                help_text="E-mail: one address per line or separated by commas")
    secret = forms.CharField(required=False, max_length=200, widget=forms.PasswordInput(render_value=False),
                             help_text="Webhook: signs each body (16+ characters)")
    remove_secret = forms.BooleanField(required=False, label="Remove the stored secret")
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple,
                                       initial=["probe.down", "probe.up"])
    min_severity = forms.ChoiceField(choices=[(s, s) for s in SEVERITIES], initial="warning",
                                     label="Findings from severity")
    chain_depth = forms.IntegerField(min_value=1, max_value=50, initial=3, label="Sync chains deeper than")
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, teams=None, editing: bool = False, system: bool = False, **kwargs):
        super().__init__(*args, auto_id="channel_%s", **kwargs)  # ids apart from the event filters' on one page
        if editing:
            del self.fields["team"]
        else:
            self.fields["team"].queryset = teams
            if not system:  # only staff add system-wide channels
                self.fields["team"].required, self.fields["team"].empty_label = True, None
            del self.fields["remove_secret"]

    def values(self) -> dict:
        """The cleaned fields as the services take them."""
        data = dict(self.cleaned_data)
        data.pop("team", None)
        text = data.pop("addresses") or ""
        data["addresses"] = [a.strip() for a in text.replace(",", "\n").splitlines() if a.strip()]
        if data.pop("remove_secret", False):
            data["secret"] = None
        return data

    def refusal_show(self, refusal: Refused) -> None:
        refusal_show(self, refusal)


def refusal_show(form: forms.Form, refusal: Refused) -> None:
    """Each error on the field its pointer names (/events/0 -> events), the others on the form."""
    for error in refusal.errors:
        field = error.get("pointer", "").strip("/").split("/")[0]
        form.add_error(field if field in form.fields else None, error["message"])


class WindowForm(forms.Form):
    services = forms.ModelMultipleChoiceField(queryset=None, widget=forms.SelectMultiple(attrs={"size": 5}))
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Starts")
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Ends")
    reason = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, services=None, **kwargs):
        super().__init__(*args, auto_id="window_%s", **kwargs)
        self.fields["services"].queryset = services if services is not None else Service.objects.none()


class MuteForm(forms.Form):
    probe = forms.ModelChoiceField(queryset=None, label="Probe")
    until = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                help_text="Empty: until unmuted")
    reason = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, probes=None, **kwargs):
        super().__init__(*args, auto_id="mute_%s", **kwargs)
        self.fields["probe"].queryset = probes
        self.fields["probe"].label_from_instance = lambda probe: probe.key
