"""The pure rules engine (no ORM): see engine.py and builtin.yaml."""
from .engine import (
    DECLARED_STYLES,
    OPTIONS,
    Question,
    RuleError,
    RuleSpec,
    Ruleset,
    condition_compile,
    evaluate,
    rule_compile,
    ruleset_build,
)

__all__ = [
    "DECLARED_STYLES", "OPTIONS", "Question", "RuleError", "RuleSpec", "Ruleset", "condition_compile", "evaluate",
    "rule_compile", "ruleset_build",
]
