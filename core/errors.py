"""Refusals every app raises; core.api turns each into its HTTP answer, pages into a message.

Each carries where the problem is: a list of {"pointer": JSON pointer or field, "message": ...}.
"""


class Refused(Exception):
    """The caller's request cannot be carried out (a 4xx, never a 500)."""

    status = 400

    def __init__(self, errors: list[dict] | str):
        if isinstance(errors, str):
            errors = [{"pointer": "", "message": errors}]
        super().__init__("; ".join(error["message"] for error in errors))
        self.errors = errors

    def body(self) -> dict:
        return {"detail": str(self), "errors": self.errors}


class Invalid(Refused):
    """Well-formed input that names things that do not exist or breaks a rule (HTTP 422)."""

    status = 422

    def body(self) -> dict:
        return {"detail": "the request is invalid", "errors": self.errors}


class Forbidden(Refused):
    """The actor may not do this (HTTP 403)."""

    status = 403


class Conflict(Refused):
    """A concurrent write got there first (HTTP 409)."""

    status = 409

    def body(self) -> dict:
        return {"detail": str(self)}
