"""Browser forms of the rules pages: the what-if questions and a custom rule.

They check input with the same functions as the API (topology.validation, the rules engine) and
give back plain data; the views hand it to one service or selector.
"""
import json

from django import forms

from topology import validation as v
from topology.choices import Style
from topology.criteria import CRITERIA, SECTIONS
from topology.forms import CRITERION_PREFIX, criterion_field, criterion_value

from .choices import Decides
from .models import CustomRule
from .recommendations import custom_rule_spec
from .rules import RuleError, rule_compile

RESERVED_SLUGS = frozenset({"new", "preview", "evaluations"})  # path segments of the rules pages
KNOWN_CITES = [point for section in SECTIONS for point, _ in section.points]


class WhatIfForm(forms.Form):
    """The criteria questions and the declared style, named as on the interaction form."""

    style = forms.ChoiceField(label="Declared style", choices=[("", "Undecided"), *Style.choices], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for criterion in CRITERIA:
            self.fields[CRITERION_PREFIX + criterion.key] = criterion_field(criterion)

    def clean(self):
        data = super().clean()
        criteria = {c.key: criterion_value(c, data.get(CRITERION_PREFIX + c.key)) for c in CRITERIA}
        for pointer, message in v.criteria_errors(criteria):
            self.add_error(CRITERION_PREFIX + pointer.lstrip("/"), message)
        data["criteria"] = v.criteria_clean(criteria) if not self.errors else {}
        return data

    def messages(self) -> list[str]:
        """Every error as one line that names the question it is about."""
        lines = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            lines += [f"{label}: {error}" if label else str(error) for error in errors]
        return lines


def effects_parse(text: str) -> dict:
    """'option=score' lines (or a JSON object) -> {option: number}; raises ValidationError naming the line."""
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc.msg} at character {exc.pos}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("write one option=score per line")
        return value
    effects = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        option, sep, score = line.replace(":", "=", 1).partition("=")
        if not sep:
            raise forms.ValidationError(f"line {number}: write option=score, e.g. request-response=5")
        try:
            value = float(score.strip().replace("−", "-"))
        except ValueError:
            raise forms.ValidationError(f"line {number}: {score.strip()!r} is not a number") from None
        effects[option.strip()] = int(value) if value.is_integer() else value
    if not effects:
        raise forms.ValidationError("give at least one option=score line")
    return effects


def effects_format(effects: dict) -> str:
    return "\n".join(f"{option}={score}" for option, score in (effects or {}).items())


def condition_pointer(condition: str, position: int | None) -> dict | None:
    """Where a condition error is: the line it is on and a caret under the character."""
    if position is None or position < 0 or not isinstance(condition, str):
        return None
    position = min(position, len(condition))
    start = condition.rfind("\n", 0, position) + 1
    end = condition.find("\n", position)
    line = condition[start:end if end != -1 else len(condition)].replace("\t", " ").rstrip("\r")
    column = position - start
    return {"position": position, "line_number": condition.count("\n", 0, position) + 1, "column": column + 1,
            "line": line, "caret": " " * column + "^"}


class CustomRuleForm(forms.Form):
    slug = forms.SlugField(max_length=63, help_text="The rule's id, e.g. pci-stays-sync. Cannot change later.")
    title = forms.CharField(max_length=200)
    decides = forms.ChoiceField(choices=Decides.choices, initial=Decides.PATTERN)
    condition = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off", "class": "mono"}),
        help_text="A rule-engine expression over the facts, e.g. "
                  "operation == \"write\" and external_clients == true.",
        strip=False,
    )
    effects = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
        help_text="One option=score per line (from -100 to 100), e.g. request-response=5.",
    )
    cites = forms.ChoiceField(label="Cites", required=False, help_text="The criterion the rule applies.")
    explanation = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The reason shown on each interaction it fires for; {source} and {targets} become service names.",
    )
    enabled = forms.BooleanField(required=False, initial=True, help_text="Disabled rules are kept but not applied.")

    def __init__(self, *args, instance: CustomRule | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "slug": instance.slug, "title": instance.title, "decides": instance.decides,
                "condition": instance.condition, "effects": effects_format(instance.effects),
                "cites": instance.cites, "explanation": instance.explanation, "enabled": instance.enabled,
            }
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.condition_problem: dict | None = None
        self.fields["cites"].choices = [("", "None")] + [
            (point, f"{point} {text if len(text) < 70 else text[:67] + '…'}")
            for section in SECTIONS for point, text in section.points
        ]
        if instance is not None:
            self.fields["slug"].disabled = True

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if self.instance is not None:
            return self.instance.slug
        problem = v.name_error(slug, what="slug")
        if problem:
            raise forms.ValidationError(problem)
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(f"{slug!r} is reserved; choose another slug")
        if CustomRule.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"a rule with the slug {slug!r} already exists")
        return slug

    def clean_condition(self):
        return self.cleaned_data["condition"].replace("\r\n", "\n").strip()

    def clean_effects(self):
        return effects_parse(self.cleaned_data["effects"])

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                rule_compile(custom_rule_spec(self.rule()))
            except RuleError as exc:
                self.add_rule_error(exc)
        return data

    def rule(self) -> CustomRule:
        """The rule as it would be saved (unsaved); keeps the stored rule's id when editing."""
        data = self.cleaned_data
        rule = CustomRule(slug=data["slug"], title=data["title"], decides=data["decides"],
                          condition=data["condition"], effects=data["effects"], cites=data.get("cites") or "",
                          explanation=data["explanation"], enabled=data["enabled"])
        if self.instance is not None:
            rule.pk, rule.created_at = self.instance.pk, self.instance.created_at
        return rule

    def add_rule_error(self, exc: RuleError) -> None:
        """Put an error of the engine on the field it names; a condition error also gets its position."""
        field = exc.field if exc.field in self.fields else "condition"
        if field == "condition":
            condition = self.cleaned_data.get("condition", "") if hasattr(self, "cleaned_data") else ""
            self.condition_problem = condition_pointer(condition, exc.position)
        self.add_error(field, exc.message)

    def messages(self) -> list[str]:
        lines = []
        for name, errors in self.errors.items():
            label = self.fields[name].label or name.capitalize() if name in self.fields else ""
            lines += [f"{label}: {error}" if label else str(error) for error in errors]
        return lines
