"""Small builders for manifests used across tests."""
import json

import yaml


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
