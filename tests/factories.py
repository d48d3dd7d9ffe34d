"""Small builders for manifests used across tests, and `register`, which applies them."""
import json

import yaml

from core.actors import actor_for_cli
from topology.manifest import manifest_parse, manifest_validate
from topology.registration import registration_apply


METADATA = {"title", "description", "labels"}


def service_doc(name, team="commerce", interactions=(), **fields):
    metadata = {key: value for key, value in fields.items() if key in METADATA}
    spec = {key: value for key, value in fields.items() if key not in METADATA}
    return {
        "apiVersion": "switchboard/v1",
        "kind": "Service",
        "metadata": {"name": name, "team": team, **metadata},
        "spec": {"interactions": list(interactions), **spec},
    }


def rest(name, *targets, **extra):
    return {"name": name, "to": list(targets), "style": "rest", **extra}


def pubsub(name, channel, *targets, **extra):
    return {"name": name, "to": list(targets), "style": "pubsub", "channel": channel, "broker": "kafka", **extra}


def as_yaml(*docs) -> str:
    return yaml.safe_dump_all(list(docs), sort_keys=False)


def as_json(*docs) -> str:
    return json.dumps({"items": list(docs)})


def register(*docs):
    """Registers the manifests as the CLI does (they must be valid), without the API."""
    result = manifest_validate(manifest_parse(as_yaml(*docs).encode(), "application/yaml"))
    assert result.errors == []
    return registration_apply(specs=result.services, actor=actor_for_cli())
