"""The refusals every API operation can answer with, added to the OpenAPI schema where a view did not
document them itself (a drf-spectacular postprocessing hook; webapp/urls.py).

They come from the same places for every view (core.api.exception_handler):

- 401 {"detail"}: no or a wrong token or session (every operation: the API needs one);
- 403 {"detail"} or {"detail", "errors"}: the caller may not do this (a viewer, a token of another
  team, a non-staff user on staff's objects, a session write without its CSRF token);
- 404 {"detail"}: no object has the path's id or name; for a paginated list, a page that does not exist;
- 400 {field or parameter: message(s)} or {"detail"}: a query parameter or body field DRF refuses,
  or a body that cannot be read;
- 415 {"detail"}: a body in a media type the operation does not take;
- 422 {"detail", "errors"}: a write the service layer refuses (core.errors.Invalid), with pointers.
"""
from __future__ import annotations

DETAIL = {"$ref": "#/components/schemas/Detail"}
REFUSAL = {"$ref": "#/components/schemas/Refusal"}
FIELD_ERRORS = {"type": "object", "additionalProperties": {}}
WRITES = {"post", "put", "patch", "delete"}


def _json(schema: dict, description: str) -> dict:
    return {"content": {"application/json": {"schema": schema}}, "description": description}


def document_refusals(result, generator, request, public):
    """Add the shared refusals to each operation under /api/ that does not document them."""
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method not in WRITES | {"get"}:
                continue
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            in_path = any(p.get("in") == "path" for p in parameters)
            in_query = [p["name"] for p in parameters if p.get("in") == "query"]
            body = "requestBody" in operation
            wanted = {
                "401": _json(DETAIL, "No credentials, or a token or session that is not valid."),
                "403": _json({"anyOf": [REFUSAL, DETAIL]}, "The caller may not do this."),
            }
            if in_path or "page" in in_query:
                wanted["404"] = _json(DETAIL, "No such object (or, for a list, no such page).")
            if in_query or body:
                wanted["400"] = _json({"anyOf": [FIELD_ERRORS, DETAIL]},
                                      "A parameter or field is not valid: each to its message(s).")
            if body:
                wanted["415"] = _json(DETAIL, "The body's media type is not one this operation takes.")
            if method in WRITES and method != "delete":
                wanted["422"] = _json(REFUSAL, "Refused: each problem with a pointer to where it is.")
            for status, response in wanted.items():
                responses.setdefault(status, response)
    return result
