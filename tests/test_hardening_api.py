"""What a new user ran into: probe targets refused only at run time."""
import socket

import pytest
from django.utils.html import escape

from probes.forms import ProbeForm
from probes.models import Probe
from tests.factories import as_json, register, service_doc
from topology.models import Service

REGISTRATIONS = "/api/v1/registrations/"


def register_json(client, *docs):
    return client.post(REGISTRATIONS, data=as_json(*docs), content_type="application/json")


# Probe targets that no probe may ever reach


@pytest.mark.parametrize("kind, target, options", [
    ("http", "http://169.254.169.254/latest/meta-data/", {}),
    ("http", "http://[fd00:ec2::254]/latest/meta-data/", {}),
    ("http", "http://[::ffff:169.254.169.254]/", {}),
    ("http", "http://2852039166/latest/meta-data/", {}),
    ("http", "http://0.0.0.0:8080/", {}),
    ("tcp", "169.254.169.254:80", {}),
    ("tcp", "[fe80::1]:22", {}),
    ("grpc", "[fe80::1%25eth0]:50051", {}),
    ("rabbitmq-queue", "amqp://guest:guest@169.254.169.254:5672/", {"queue": "jobs"}),
    ("nats-consumer", "nats://[fe80::1]:4222", {}),
    ("redis", "redis://0xa9fea9fe:6379/0", {}),
])
def test_it_rejects_a_probe_target_in_an_always_refused_range_at_registration(ci, kind, target, options):
    probe = {"name": "meta", "type": kind, "target": target, **options}
    response = register_json(ci, service_doc("orders", probes=[probe]))
    assert response.status_code == 422, response.json()
    [error] = response.json()["errors"]
    assert error["pointer"] == "/0/spec/probes/0/target"
    assert "refused by the probe target policy" in error["message"] and "always denied" in error["message"]
    assert not Service.objects.filter(name="orders").exists() and not Probe.objects.exists()


def test_it_rejects_the_refused_target_among_other_probes_pointing_at_it(ci):
    probes = [{"name": "health", "type": "http", "target": "http://127.0.0.1:8000/healthz"},
              {"name": "meta", "type": "tcp", "target": "169.254.169.254:80"}]
    response = register_json(ci, service_doc("payment", title="Payment"), service_doc("orders", probes=probes))
    assert response.status_code == 422
    assert [error["pointer"] for error in response.json()["errors"]] == ["/1/spec/probes/1/target"]


def test_it_handles_names_and_allowed_addresses_without_resolving_them(ci, settings, monkeypatch):
    settings.PROBE_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.PROBE_DENIED_NETWORKS = ["10.9.0.0/16"]

    def no_dns(*args, **kwargs):
        raise AssertionError(f"registration resolved a name: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    probes = [{"name": "by-name", "type": "http", "target": "http://metadata.internal.test/latest/"},
              {"name": "allowed", "type": "tcp", "target": "10.1.2.3:5432"},
              {"name": "local", "type": "tcp", "target": "127.0.0.1:5432"}]
    response = register_json(ci, service_doc("orders", probes=probes))
    assert response.status_code == 201, response.json()
    assert set(Probe.objects.values_list("name", flat=True)) == {"by-name", "allowed", "local"}


def test_it_rejects_an_always_refused_range_even_when_the_allow_list_names_it(ci, settings):
    settings.PROBE_ALLOWED_NETWORKS = ["169.254.0.0/16"]  # the policy refuses it at run time all the same
    probe = {"name": "meta", "type": "tcp", "target": "169.254.169.254:80"}
    assert register_json(ci, service_doc("orders", probes=[probe])).status_code == 422


def test_it_rejects_a_refused_target_sent_to_the_service_api(ci):
    assert register_json(ci, service_doc("orders")).status_code == 201
    probe = {"name": "meta", "type": "http", "target": "http://169.254.169.254/"}
    response = ci.patch("/api/v1/services/orders/", data={"probes": [probe]}, format="json")
    assert response.status_code == 400
    assert "/0/target" in str(response.json()["probes"]) and "always denied" in str(response.json()["probes"])


def test_it_rejects_a_refused_target_in_the_probe_form_next_to_the_target_field(client, maintainer):
    register(service_doc("orders"))
    client.force_login(maintainer)
    data = {"name": "meta", "type": "http", "target": "http://169.254.169.254/latest/meta-data/",
            "interval": "30s", "timeout": "5s", "locations": ["default"], "details": ""}
    response = client.post("/services/orders/probes/new/", data)
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"target"}
    message = form.errors["target"][0]
    assert "169.254.0.0/16 (link-local, cloud metadata or unspecified) is always denied" in message
    assert escape(message) in response.content.decode()
    assert ProbeForm({**data, "target": "http://metadata.internal.test/"}, taken=set()).is_valid()
    assert not Probe.objects.exists()
