"""Pure helpers for checking input, shared by every app's validation and the pure cores (no Django)."""
import re

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def pointer_token(key: str) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def shown(value: object) -> str:
    """A short, safe rendering of user input for an error message (never a huge repr)."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return f"a {type(value).__name__}"
