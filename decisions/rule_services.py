"""Writes for custom rules: every change is validated by the engine, audited, and re-evaluates all."""
from django.db import transaction

from core.actors import Actor
from core.errors import Forbidden
from topology.audit import audit_event, audit_record, field_changes
from topology.choices import AuditAction, AuditObject

from .models import CustomRule, EvaluationRun
from .recommendations import custom_rule_spec, evaluation_run_start
from .rules import rule_compile

RULE_FIELDS = ("title", "decides", "condition", "effects", "cites", "explanation", "enabled")


def _require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden(f"{actor.label} may not change the rules; administrators can")


def _values(rule: CustomRule) -> dict:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


@transaction.atomic
def custom_rule_save(*, actor: Actor, rule: CustomRule) -> tuple[CustomRule, EvaluationRun]:
    """Create or update a rule (the caller has set its fields); raises RuleError when it does not compile."""
    _require_staff(actor)
    rule_compile(custom_rule_spec(rule))
    before = _values(CustomRule.objects.get(pk=rule.pk)) if rule.pk else {}
    created = rule.pk is None
    rule.written_by = actor.label
    rule.save()
    audit_record([audit_event(actor, AuditAction.CREATE if created else AuditAction.UPDATE, AuditObject.RULE,
                              rule.slug, changes=field_changes(before, _values(rule)))])
    return rule, evaluation_run_start(reason=f"rule {rule.slug} {'created' if created else 'changed'}")


@transaction.atomic
def custom_rule_delete(*, actor: Actor, rule: CustomRule) -> EvaluationRun:
    _require_staff(actor)
    audit_record([audit_event(actor, AuditAction.DELETE, AuditObject.RULE, rule.slug,
                              changes=field_changes(_values(rule), {}))])
    rule.delete()
    return evaluation_run_start(reason=f"rule {rule.slug} deleted")
