"""The browser form for one probe. It checks with the same rules as the manifest (probes/engine/spec.py), so a
target no probe may ever reach (a link-local or cloud metadata address) is refused next to the target field."""
import yaml
from django import forms
from django.conf import settings

from .choices import ProbeKind
from .engine.spec import COMMON_KEYS, ProbeDeclaration, probe_declaration_check, probe_redacted

FIELD_OF_POINTER = {"/name": "name", "/type": "type", "/target": "target", "/interval": "interval",
                    "/timeout": "timeout", "/locations": "locations", "/description": "description"}
DETAILS_HELP = "Kind-specific settings and expectations as YAML, e.g. queue: orders, and expect: {min_consumers: 1}."
DETAILS_EXAMPLES = {
    ProbeKind.HTTP: "method: GET\nexpect:\n  status: [200]\n  body_contains: ok\n  max_latency_ms: 500",
    ProbeKind.TCP: "expect:\n  max_latency_ms: 200",
    ProbeKind.GRPC: "service: orders.v1.Orders\ntls: false",
    ProbeKind.RABBITMQ_QUEUE: "queue: orders\nexpect:\n  max_ready: 1000\n  min_consumers: 1",
    ProbeKind.NATS_CONSUMER: "stream: ORDERS\nconsumer: billing\nexpect:\n  max_pending: 500",
    ProbeKind.REDIS: "stream: orders\ngroup: billing\nexpect:\n  max_pending: 100",
    ProbeKind.KAFKA_CONSUMER: "group: shipping\ntopic: orders.placed\nexpect:\n  max_lag: 1000\n  max_lag_per_partition: 500",
}


class ProbeForm(forms.Form):
    name = forms.CharField(max_length=63, help_text="Lower-case letters, digits and dashes, unique on this service.")
    type = forms.ChoiceField(choices=ProbeKind.choices)
    target = forms.CharField(max_length=500, help_text="A URL (http://, amqp://, nats://, redis://), host:port, or for Kafka the bootstrap servers host:port,host:port.")
    interval = forms.CharField(initial="30s", max_length=20, help_text="How often, e.g. 30s, 5m (10s to 24h).")
    timeout = forms.CharField(initial="5s", max_length=20, help_text="How long a run may take, e.g. 5s.")
    locations = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, initial=["default"],
                                          help_text="Where it runs from: a worker consuming probes.<location>.")
    description = forms.CharField(max_length=500, required=False)
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "class": "mono", "spellcheck": "false"}),
                              required=False, help_text=DETAILS_HELP)

    def __init__(self, *args, taken: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.taken = taken
        self.fields["locations"].choices = [(name, name) for name in settings.PROBE_LOCATIONS]
        self.declaration: ProbeDeclaration | None = None

    @staticmethod
    def initial_for(declared: dict) -> dict:
        declared = probe_redacted(declared)  # secrets stay hidden; sent back unchanged they are kept
        extra = {key: value for key, value in declared.items() if key not in COMMON_KEYS or key == "expect"}
        details = yaml.safe_dump(extra, sort_keys=False, allow_unicode=True).strip() if extra else ""
        return {**{key: declared.get(key, "") for key in FIELD_OF_POINTER.values()}, "type": declared["type"],
                "details": details}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name in self.taken:
            raise forms.ValidationError(f"This service already has a probe named {name!r}.")
        return name

    def clean_details(self) -> dict:
        text = self.cleaned_data["details"].strip()
        try:
            data = yaml.safe_load(text) if text else {}
        except yaml.YAMLError as exc:
            raise forms.ValidationError(f"not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise forms.ValidationError("write a mapping of settings, e.g. `queue: orders`")
        clashes = sorted(set(data) & (COMMON_KEYS - {"expect"}))
        if clashes:
            raise forms.ValidationError(f"{', '.join(clashes)} belong in their own fields above")
        return data

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        item = {key: data[key] for key in FIELD_OF_POINTER.values() if data.get(key) not in ("", None)}
        item.update(data["details"])
        self.declaration, errors = probe_declaration_check(item)
        for pointer, message in errors:
            field = FIELD_OF_POINTER.get("/" + pointer.split("/")[1]) if pointer else None
            self.add_error(field or "details", message if field else f"{pointer}: {message}")
        return data
