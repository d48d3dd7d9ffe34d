"""The manifest as a JSON Schema (draft 2020-12), and jsonschema errors turned into clear messages.

Pure: no Django. The schema is built from the same constants the code uses (criteria from
topology.criteria, names from core.inputs, limits from here); the caller passes the choices
(styles, brokers, lifecycles) and the part that describes a probe (the probes app contributes it
through topology.extensions). One schema serves people (docs/manifest.md), editors
(`# yaml-language-server: $schema=...`) and the validator of every registration.

Subschemas carry a `title` (what the field is called in a message) and, where the wording matters,
`errorMessage` or `patternErrorMessage` (the tail of the message; editors built on
vscode-json-languageservice show them too).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

import referencing.jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend

from core.inputs import NAME_RE, pointer_token, shown

from .criteria import BOOL, CHOICE, CRITERIA, INTEGER

API_VERSION = "switchboard/v1"
KIND = "Service"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_LANGUAGE = 50
MAX_REPOSITORY = 500
MAX_LABELS = 64
MAX_LABEL_VALUE = 255
MAX_TARGETS = 100
MAX_INTERACTIONS = 500
MAX_PROBES = 100
MAX_SERVICES = 10_000
MAX_ERRORS = 200

NAME_RULE = "must be 1-63 lower-case letters, digits or dashes, starting and ending with a letter or digit"
LABEL_KEY_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$"
CHANNEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/*>#-]{0,248}$"
REPOSITORY_PATTERN = r"^([Hh][Tt][Tt][Pp][Ss]?|[Ss][Ss][Hh]|[Gg][Ii][Tt])://[^/?#\s]+([/?#]\S*)?$"
# Free text: anything but NUL and lone surrogates (neither can be stored, nor sent back as JSON).
TEXT_PATTERN = "^[^\\u0000\\ud800-\\udfff]*$"
TEXT_RULE = "must not contain NUL characters or lone surrogates"


def name_schema(what: str, description: str = "") -> dict:
    return {"title": what, "type": "string", "pattern": NAME_RE.pattern, "patternErrorMessage": NAME_RULE,
            "errorMessage": {"type": "is required and must be a string"},
            **({"description": description} if description else {})}


def text_schema(what: str, limit: int, description: str = "") -> dict:
    return {"title": what, "type": "string", "maxLength": limit, "pattern": TEXT_PATTERN,
            "patternErrorMessage": TEXT_RULE, **({"description": description} if description else {})}


def choice_schema(what: str, choices: Iterable[str], *, nullable: bool = False, description: str = "") -> dict:
    values = [str(choice) for choice in choices]
    schema = {"title": what, "enum": values + ([None] if nullable else [])}
    if description:
        schema["description"] = description
    return schema


def criteria_schema() -> dict:
    """The interaction criteria: every key optional, unknown keys refused; null means unanswered."""
    properties = {}
    for criterion in CRITERIA:
        described = f"{criterion.cites} {criterion.question}" + (f" ({criterion.unit})" if criterion.unit else "")
        if criterion.kind == BOOL:
            schema = {"type": ["boolean", "null"]}
        elif criterion.kind == CHOICE:
            schema = {"enum": [*criterion.choices, None]}
        else:
            schema = {"type": ["integer" if criterion.kind == INTEGER else "number", "null"],
                      "minimum": criterion.minimum, "maximum": criterion.maximum}
        properties[criterion.key] = {"title": criterion.key, "description": described, **schema}
    return {"title": "criteria", "type": "object", "properties": properties, "additionalProperties": False,
            "description": "The facts the recommendation reads; every key is optional."}


def interaction_schema(*, styles: Iterable[str], async_styles: Iterable[str], brokers: Iterable[str]) -> dict:
    styles, async_styles = [str(s) for s in styles], [str(s) for s in async_styles]
    sync_styles = [style for style in styles if style not in async_styles]
    rules = []
    for style in async_styles:
        required = f"channel (the topic or queue name) is required for style {style}"
        rules.append({"if": {"properties": {"style": {"const": style}}, "required": ["style"]},
                      "then": {"required": ["channel"], "errorMessage": {"required": required},
                               "properties": {"channel": {"type": "string", "minLength": 1,
                                                          "errorMessage": required}}}})
    for style in sync_styles:
        rules.append({"if": {"properties": {"style": {"const": style}}, "required": ["style"]},
                      "then": {"properties": {
                          "channel": {"type": ["null"], "errorMessage": f"applies to pubsub and queue, not to {style}"},
                          "broker": {"type": ["null"], "errorMessage": f"applies to pubsub and queue, not to {style}"}}}})
    return {
        "title": "an interaction", "type": "object", "required": ["name", "to"],
        "properties": {
            "name": name_schema("interaction name", "Unique within the service."),
            "to": {"title": "to", "type": "array", "minItems": 1, "maxItems": MAX_TARGETS,
                   "items": name_schema("target"), "description": "One or more service names.",
                   "errorMessage": {"type": "must be a non-empty list of service names",
                                    "minItems": "must be a non-empty list of service names"}},
            "description": text_schema("description", MAX_DESCRIPTION),
            "style": choice_schema("style", styles, nullable=True, description="Omit when undecided."),
            "channel": {"title": "channel", "type": ["string", "null"], "pattern": CHANNEL_PATTERN,
                        "patternErrorMessage": "must be 1-249 characters without spaces",
                        "description": "Topic or queue name; required for pubsub and queue, refused for rest and grpc."},
            "broker": choice_schema("broker", brokers, nullable=True, description="pubsub and queue only."),
            "criteria": {**criteria_schema(), "type": ["object", "null"]},
        },
        "additionalProperties": False,
        "allOf": rules,
    }


def service_schema(*, styles, async_styles, brokers, lifecycles, probe: dict | None) -> dict:
    metadata = {
        "title": "metadata", "type": "object", "required": ["name", "team"], "additionalProperties": False,
        "properties": {
            "name": name_schema("metadata.name", "The service's name."),
            "team": name_schema("metadata.team", "A team the caller may write."),
            "title": text_schema("title", MAX_TITLE),
            "description": text_schema("description", MAX_DESCRIPTION),
            "labels": {"title": "labels", "type": ["object", "null"], "maxProperties": MAX_LABELS,
                       "description": 'A map of strings (quote numbers: slo: "99.9").',
                       "errorMessage": {"type": "must be a map of strings to strings"},
                       "propertyNames": {"title": "label key", "type": "string", "pattern": LABEL_KEY_PATTERN,
                                         "patternErrorMessage": "must be 1-63 letters, digits, '.', '_', '/' or '-'"},
                       "additionalProperties": {**text_schema("label", MAX_LABEL_VALUE),
                                                "errorMessage": {"type": "must be a string (quote numbers and booleans)"}}},
        },
    }
    probes = {"title": "probes", "type": ["array", "null"], "maxItems": MAX_PROBES,
              "description": "Live checks run by Celery workers; see docs/probes.md.",
              **({"items": probe} if probe else {"maxItems": 0, "errorMessage": {
                  "maxItems": "cannot be declared here: the probes app is not installed"}})}
    spec = {
        "title": "spec", "type": ["object", "null"], "additionalProperties": False,
        "properties": {
            "lifecycle": choice_schema("lifecycle", lifecycles, nullable=True, description="Default production."),
            "language": text_schema("language", MAX_LANGUAGE),
            "repository": {**text_schema("repository", MAX_REPOSITORY), "type": ["string", "null"],
                           "pattern": f"^$|{REPOSITORY_PATTERN}",
                           "patternErrorMessage": "must be an http(s), ssh or git URL with a host, "
                                                  "e.g. https://git.example.com/team/repo"},
            "interactions": {"title": "interactions", "type": ["array", "null"], "maxItems": MAX_INTERACTIONS,
                             "items": interaction_schema(styles=styles, async_styles=async_styles, brokers=brokers),
                             "description": "Every interaction the service starts; any other it had is removed."},
            "probes": probes,
        },
    }
    return {
        "title": "a service document", "type": "object", "required": ["apiVersion", "kind", "metadata"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"title": "apiVersion", "const": API_VERSION},
            "kind": {"title": "kind", "const": KIND},
            "metadata": metadata,
            "spec": spec,
        },
    }


def manifest_schema(*, styles, async_styles, brokers, lifecycles, probe: dict | None = None,
                    schema_id: str = "") -> dict:
    """The whole manifest: one service document, or {"items": [...]} of them (YAML: one per `---`)."""
    service = service_schema(styles=styles, async_styles=async_styles, brokers=brokers, lifecycles=lifecycles,
                             probe=probe)
    return {
        "$schema": DRAFT,
        **({"$id": schema_id} if schema_id else {}),
        "title": "Switchboard service manifest",
        "description": "The whole desired state of one or more services (docs/manifest.md). In YAML, one "
                       "document per service, separated by ---.",
        "$defs": {"service": service},
        "anyOf": [
            {"$ref": "#/$defs/service"},
            {"type": "object", "required": ["items"], "additionalProperties": False,
             "properties": {"items": {"type": "array", "maxItems": MAX_SERVICES, "items": {"$ref": "#/$defs/service"}}}},
        ],
    }


# --- the validator ------------------------------------------------------------------------------

def _ecma(pattern: str) -> str:
    """JSON Schema patterns are ECMA-262: `$` ends the string. Python's `$` also matches before a final
    newline, so a trailing `$` becomes `\\Z` here (without it, 'orders\\n' would pass as a name)."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern


_compiled: dict[str, re.Pattern] = {}


def _pattern(validator, pattern, instance, schema):
    if not isinstance(instance, str):
        return
    compiled = _compiled.get(pattern)
    if compiled is None:
        compiled = _compiled[pattern] = re.compile(_ecma(pattern))
    if not compiled.search(instance):
        yield _error("pattern", pattern, instance)


def _error(keyword, value, instance):
    return ValidationError(f"{shown(instance)} does not match {value!r}", validator=keyword, validator_value=value,
                           instance=instance)


def _bounded(keyword: str, limit: str):
    """`items`/`additionalProperties` that do not look inside an array or map already over its limit:
    the size error says enough, and nothing checks a million items one by one."""
    original = Draft202012Validator.VALIDATORS[keyword]

    def check(validator, value, instance, schema):
        size = len(instance) if isinstance(instance, (list, dict)) else 0
        if limit in schema and size > schema[limit]:
            return
        yield from original(validator, value, instance, schema)
    return check


def _finite_number(checker, instance) -> bool:
    return (isinstance(instance, (int, float)) and not isinstance(instance, bool)
            and (isinstance(instance, int) or math.isfinite(instance)))


def _finite_integer(checker, instance) -> bool:
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and math.isfinite(instance)
                                         and instance.is_integer())


_types = Draft202012Validator.TYPE_CHECKER.redefine_many({"number": _finite_number, "integer": _finite_integer})
ManifestValidator = extend(
    Draft202012Validator,
    validators={"pattern": _pattern, "items": _bounded("items", "maxItems"),
                "additionalProperties": _bounded("additionalProperties", "maxProperties")},
    type_checker=_types,
)


_evolved: dict[int, tuple[dict, object]] = {}


def _descend(self, instance, schema, path=None, schema_path=None, resolver=None):
    """jsonschema's descend, reusing one validator per subschema instead of building one per value
    (the manifest's schema has no $ref below its root, so the resolver never differs); 10x fewer
    objects made while a 1,000-service manifest is checked."""
    if schema is True:
        return
    if schema is False:
        yield ValidationError(f"False schema does not allow {shown(instance)}", validator=None,
                              validator_value=None, instance=instance, schema=schema)
        return
    cached = _evolved.get(id(schema))
    if cached is not None and cached[0] is schema:
        evolved = cached[1]
    else:
        evolved = _original_descend_evolve(self, schema, resolver)
        if len(_evolved) > 4096:
            _evolved.clear()
        _evolved[id(schema)] = (schema, evolved)
    for keyword, value in schema.items():
        check = evolved.VALIDATORS.get(keyword)
        if check is None:
            continue
        for error in check(evolved, value, instance, schema) or ():
            error._set(validator=keyword, validator_value=value, instance=instance, schema=schema,
                       type_checker=evolved.TYPE_CHECKER)
            if keyword not in {"if", "$ref"}:
                error.schema_path.appendleft(keyword)
            if path is not None:
                error.path.appendleft(path)
            if schema_path is not None:
                error.schema_path.appendleft(schema_path)
            yield error


def _original_descend_evolve(self, schema, resolver):
    if resolver is None:
        resolver = self._resolver.in_subresource(referencing.jsonschema.DRAFT202012.create_resource(schema))
    return self.evolve(schema=schema, _resolver=resolver)


def _if(validator, if_schema, instance, schema):
    """jsonschema's `if`, through the cached descend."""
    if next(iter(validator.descend(instance, if_schema)), None) is None:
        if "then" in schema:
            yield from validator.descend(instance, schema["then"], schema_path="then")
    elif "else" in schema:
        yield from validator.descend(instance, schema["else"], schema_path="else")


ManifestValidator.descend = _descend
ManifestValidator.VALIDATORS["if"] = _if


def schema_validator(schema: dict):
    """A validator of one service document, against `$defs/service` of the manifest schema."""
    Draft202012Validator.check_schema(schema)
    return ManifestValidator({"$schema": DRAFT, "$defs": schema["$defs"], "$ref": "#/$defs/service"})


def schema_errors(validator, documents: list, *, limit: int = MAX_ERRORS) -> list[tuple[str, str]]:
    """Every shape error of the documents as (pointer, message), pointers from "/0" (the first document).

    The documents are validated one by one against the service schema (`$defs/service`), so pointers
    are the same whatever the format; at most `limit` errors are gathered."""
    errors: list[tuple[str, str]] = []
    for index, document in enumerate(documents):
        for error in validator.iter_errors(document):
            errors.extend(_translated(error, f"/{index}"))
            if len(errors) >= limit:
                return errors[:limit]
    return errors


def value_errors(validator, subschema: dict, value: object) -> list[tuple[str, str]]:
    """The errors of one value against one part of the schema (a form field, an API field)."""
    return [item for error in validator.evolve(schema=subschema).iter_errors(value)
            for item in _translated(error, "")]


_TYPE_WORDS = {"string": "a string", "object": "a map", "array": "a list", "boolean": "true or false",
               "integer": "a whole number", "number": "a number", "null": "null"}


def _type_words(types) -> str:
    types = [types] if isinstance(types, str) else list(types)
    if types == ["null"]:
        return "null (or left out)"
    if len(types) > 1 and "null" in types:  # null stands for "left out": not worth saying
        types.remove("null")
    if "integer" in types and "number" in types:
        types.remove("integer")
    return " or ".join(_TYPE_WORDS.get(kind, kind) for kind in types)


def _translated(error, base: str) -> Iterator[tuple[str, str]]:
    path = list(error.absolute_path)
    pointer = base + "".join("/" + pointer_token(part) for part in path)
    schema, keyword, value, instance = error.schema, error.validator, error.validator_value, error.instance
    schema_path = list(error.absolute_schema_path)
    if len(schema_path) >= 2 and schema_path[-2] == "propertyNames":
        if keyword == "enum":
            yield pointer + "/" + pointer_token(instance), f"unknown field {shown(instance)}; allowed: {', '.join(value)}"
            return
        title = schema.get("title", "key")
        subject = f"{title} {shown(instance)}" if keyword != "pattern" else title
        yield pointer + "/" + pointer_token(instance), _message(schema, keyword, value, instance, subject)
        return
    if keyword == "additionalProperties" and value is False:
        allowed = ", ".join(sorted(schema.get("properties", {})))
        for key in instance:
            if key not in schema.get("properties", {}):
                yield pointer + "/" + pointer_token(key), f"unknown field {shown(key)}; allowed: {allowed}"
        return
    if keyword == "required":
        for key in value:
            if key not in instance:
                field = schema.get("properties", {}).get(key, {})
                custom = _custom(schema, "required")
                yield pointer + "/" + pointer_token(key), custom or _required(field, key)
        return
    subject = schema.get("title") or (str(path[-1]) if path else "the manifest")
    if len(schema_path) >= 2 and schema_path[-2] == "additionalProperties" and path:
        subject = f"{subject} {shown(path[-1])}"
    yield pointer, _message(schema, keyword, value, instance, subject)


def _custom(schema: dict, keyword: str) -> str | None:
    custom = schema.get("errorMessage")
    if isinstance(custom, dict):
        custom = custom.get(keyword)
    if keyword == "pattern" and schema.get("patternErrorMessage"):
        custom = schema["patternErrorMessage"]
    return custom


def _required(field: dict, key: str) -> str:
    tail = _custom(field, "type")
    return f"{field.get('title', key)} {tail}" if tail and "required" in tail else f"{field.get('title', key)} is required"


def _message(schema: dict, keyword: str, value, instance, subject: str) -> str:
    custom = _custom(schema, keyword)
    if custom and custom.startswith(subject.split(" ")[0]):
        return custom
    if custom:
        if keyword == "pattern" and "NUL" not in custom:
            return f"{subject} {shown(instance)} {custom}"
        return f"{subject} {custom}"
    if keyword == "type":
        return f"{subject} must be {_type_words(value)}"
    if keyword in ("enum", "const"):
        choices = [choice for choice in (value if keyword == "enum" else [value]) if choice is not None]
        if keyword == "const":
            return f"{subject} must be {value!r}"
        return f"{subject} must be one of {', '.join(map(str, choices))}; got {shown(instance)}"
    if keyword == "pattern":
        return f"{subject} {shown(instance)} must match {value}"
    if keyword == "maxLength":
        return f"{subject} is {len(instance)} characters long; the limit is {value}"
    if keyword == "minLength":
        return f"{subject} must not be empty"
    if keyword in ("maxItems", "maxProperties"):
        return f"at most {value} {subject} allowed; got {len(instance)}"
    if keyword in ("minItems", "minProperties"):
        return f"{subject} must have at least {value}"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low, high = schema.get("minimum", schema.get("exclusiveMinimum")), schema.get("maximum", schema.get("exclusiveMaximum"))
        if low is not None and high is not None:
            return f"{subject} must be between {_number(low)} and {_number(high)}"
        return f"{subject} must be at least {_number(low)}" if low is not None else f"{subject} must be at most {_number(high)}"
    if keyword == "dependentRequired":
        pairs = [(key, needed) for key, needs in value.items() if key in instance
                 for needed in needs if needed not in instance]
        return "; ".join(f"{needed} is required when {key} is given" for key, needed in pairs)
    if keyword in ("anyOf", "oneOf"):
        return f"{subject} {shown(instance)} is not valid here"
    return f"{subject} does not satisfy {keyword}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"
