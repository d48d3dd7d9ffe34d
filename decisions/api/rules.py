"""API for the rules: what-if evaluation, custom rules with preview, and re-evaluation runs."""
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import JSON, detail, field_errors
from core.inputs import NAME_RE
from topology import validation as v
from topology.authentication import api_actor
from topology.choices import Style
from topology.criteria import SECTIONS
from topology.manifest_schema import criteria_schema

from ..models import CustomRule, EvaluationRun
from ..recommendations import custom_rule_spec, proposed_custom_specs, question_of, rules_preview, ruleset_current
from ..rule_forms import RESERVED_SLUGS
from ..rule_services import RULE_FIELDS, custom_rule_delete, custom_rule_save
from ..rules import RuleError, evaluate, rule_compile
from ..rules.engine import builtin_specs

KNOWN_CITES = [point for section in SECTIONS for point, _ in section.points]


class TextField(serializers.CharField):
    """A string, and only a string: DRF's CharField turns a number into its text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1, "maximum": v.MAX_TARGETS},
                               {"type": "array", "items": {"type": "string", "pattern": NAME_RE.pattern},
                                "minItems": 1, "maxItems": v.MAX_TARGETS, "uniqueItems": True}]})
class TargetsField(serializers.JSONField):
    """How many services an interaction reaches, or their names (validate_targets checks which)."""


def _openapi_30(schema: dict) -> dict:
    """A criterion's JSON Schema (draft 2020-12: "type": [t, "null"], null in enum) as OpenAPI 3.0 says it."""
    out = {key: value for key, value in schema.items() if key not in ("title", "type") and value is not None}
    kinds = schema.get("type")
    if isinstance(kinds, list):
        out["type"] = next(kind for kind in kinds if kind != "null")
        out["nullable"] = "null" in kinds
    elif kinds is not None:
        out["type"] = kinds
    if "enum" in schema:
        out.setdefault("type", "string")
        out["nullable"] = None in schema["enum"]
    return out


def _criteria_schema() -> dict:
    schema = criteria_schema()
    return {"type": "object", "description": schema.get("description", ""), "additionalProperties": False,
            "properties": {key: _openapi_30(value) for key, value in schema["properties"].items()}}


@extend_schema_field(_criteria_schema())
class CriteriaField(serializers.DictField):
    """The criteria, as a manifest's interaction has them (unknown keys refused)."""


class EvaluateSerializer(serializers.Serializer):
    criteria = CriteriaField(required=False, default=dict)
    targets = TargetsField(required=False, default=1,
                                    help_text="How many services it reaches, or their names.")
    declared_style = serializers.ChoiceField(choices=Style.choices, required=False, allow_blank=True, default="")
    source = TextField(required=False, allow_blank=True, default="", max_length=63)

    def validate_criteria(self, value):
        errors = v.criteria_errors(value)
        if errors:
            raise ValidationError({pointer.lstrip("/"): message for pointer, message in errors})
        return v.criteria_clean(value)

    def validate_targets(self, value):
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= v.MAX_TARGETS:
            return value
        if isinstance(value, list):
            # targets_errors puts each name in a set: a list or an object among them was a 500.
            unnamed = [f"/{index}" for index, item in enumerate(value) if not isinstance(item, str)]
            if unnamed:
                raise ValidationError([f"{pointer}: a service name is a string" for pointer in unnamed])
            errors = v.targets_errors(value, source=None)
            if errors:
                raise ValidationError([message for _, message in errors])
            return value
        raise ValidationError(f"targets must be a whole number from 1 to {v.MAX_TARGETS}, or a list of service names")


BAD_FIELDS = field_errors("A field of the wrong shape, named with its message.")


class EvaluateView(APIView):
    """What-if: the recommendation for some criteria, without storing anything."""

    # JSON only: the body nests lists and objects, which form and multipart bodies cannot carry.
    parser_classes = [JSONParser]

    @extend_schema(request=EvaluateSerializer, responses={200: dict, (400, JSON): BAD_FIELDS},
                   operation_id="recommendations_evaluate")
    def post(self, request):
        serializer = EvaluateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        targets = data["targets"]
        names = tuple(targets) if isinstance(targets, list) else ()
        question = question_of(source=data["source"], targets=names, criteria=data["criteria"],
                               declared_style=data["declared_style"], target_count=None if names else targets)
        return Response(evaluate(ruleset_current(), question))


class CustomRuleSerializer(serializers.ModelSerializer):
    cites = serializers.ChoiceField(choices=[("", "none")] + [(c, c) for c in KNOWN_CITES], required=False,
                                    allow_blank=True)

    class Meta:
        model = CustomRule
        fields = ["slug", "title", "decides", "condition", "effects", "cites", "explanation", "enabled",
                  "created_at", "updated_at", "written_by"]
        read_only_fields = ["created_at", "updated_at", "written_by"]

    def validate_slug(self, value):
        problem = v.name_error(value, what="slug")
        if problem:
            raise ValidationError(problem)
        if value in RESERVED_SLUGS:
            raise ValidationError(f"{value!r} is reserved (a path of the rules pages); choose another slug")
        return value

    def rule(self) -> CustomRule:
        """The rule as it would be saved (unsaved), merging a partial update onto the stored one."""
        current = {name: getattr(self.instance, name) for name in ("slug", *RULE_FIELDS)} if self.instance else {}
        rule = CustomRule(**{**current, **self.validated_data})
        if self.instance is not None:
            rule.pk, rule.created_at = self.instance.pk, self.instance.created_at
        return rule


class CustomRuleSavedSerializer(CustomRuleSerializer):
    evaluation = serializers.IntegerField(read_only=True, help_text="The re-evaluation this change started "
                                                                    "(GET /api/v1/evaluations/{id}/).")

    class Meta(CustomRuleSerializer.Meta):
        fields = [*CustomRuleSerializer.Meta.fields, "evaluation"]


class BuiltinRuleSerializer(serializers.Serializer):
    id = serializers.CharField()
    decides = serializers.CharField(help_text="What its effects score: pattern, protocol or broker.")
    condition = serializers.CharField()
    effects = serializers.DictField(child=serializers.FloatField(), help_text="Points for each option it scores.")
    cites = serializers.CharField(allow_blank=True, help_text="The guidance it applies, e.g. §5.1.")
    sentence = serializers.CharField(help_text="The reason it gives, with {source} and {targets} filled in.")
    beyond_document = serializers.BooleanField(help_text="A rule of thumb beyond the guidance it cites.")
    origin = serializers.CharField()


class BuiltinRulesSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="The built-in rules' version (the ruleset version without custom rules).")
    rules = BuiltinRuleSerializer(many=True)


class RuleErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text="The field, e.g. /condition.")
    message = serializers.CharField()
    position = serializers.IntegerField(allow_null=True, help_text="The character of the field where it goes wrong.")


class RuleRefusalSerializer(serializers.Serializer):
    """A rule the engine cannot compile."""

    detail = serializers.CharField()
    errors = RuleErrorSerializer(many=True)


class PreviewChangeSerializer(serializers.Serializer):
    interaction = serializers.CharField(help_text="service/interaction")
    id = serializers.IntegerField()
    before = serializers.DictField()
    after = serializers.DictField()


class PreviewSerializer(serializers.Serializer):
    ruleset_version = serializers.CharField()
    changed = serializers.IntegerField(help_text="How many interactions would change (changes lists the first 100).")
    changes = PreviewChangeSerializer(many=True)


RULE_REFUSALS = {
    (400, JSON): BAD_FIELDS,
    (403, JSON): detail("Only administrators change the rules."),
    (422, JSON): OpenApiResponse(RuleRefusalSerializer, description="The rule does not compile: where and why."),
}


class IsStaffOrReadOnly(permissions.BasePermission):
    message = "Only administrators change the rules."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


@extend_schema_view(
    create=extend_schema(request=CustomRuleSerializer, responses={201: CustomRuleSavedSerializer, **RULE_REFUSALS}),
    update=extend_schema(request=CustomRuleSerializer, responses={200: CustomRuleSavedSerializer, **RULE_REFUSALS}),
    partial_update=extend_schema(request=CustomRuleSerializer,
                                 responses={200: CustomRuleSavedSerializer, **RULE_REFUSALS}),
)
class CustomRuleViewSet(viewsets.ModelViewSet):
    """The organisation's own rules. Invalid conditions are a 422 with the position of the error."""

    serializer_class = CustomRuleSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffOrReadOnly]
    lookup_field = "slug"
    queryset = CustomRule.objects.all()

    def create(self, request, *args, **kwargs):
        return self._save(request, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        return self._save(request, status.HTTP_200_OK, instance=self.get_object(), partial=kwargs.get("partial", False))

    def _save(self, request, code, instance=None, partial=False):
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            rule, run = custom_rule_save(actor=api_actor(request), rule=serializer.rule())
        except RuleError as exc:
            return rule_error_response(exc)
        return Response({**self.get_serializer(rule).data, "evaluation": run.pk}, status=code)

    def perform_destroy(self, instance):
        custom_rule_delete(actor=api_actor(self.request), rule=instance)

    @extend_schema(request=CustomRuleSerializer, responses={200: PreviewSerializer, **RULE_REFUSALS})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Which interactions would change recommendation if this rule were saved (nothing is saved)."""
        slug = request.data.get("slug") if isinstance(request.data, dict) else None
        instance = CustomRule.objects.filter(slug=slug).first() if isinstance(slug, str) else None
        serializer = self.get_serializer(instance, data=request.data)
        serializer.is_valid(raise_exception=True)
        proposed = serializer.rule()
        try:
            rule_compile(custom_rule_spec(proposed))
        except RuleError as exc:
            return rule_error_response(exc)
        return Response(rules_preview(custom=proposed_custom_specs(proposed)))

    @extend_schema(responses=BuiltinRulesSerializer)
    @action(detail=False, methods=["get"])
    def builtin(self, request):
        """The built-in rules, as data."""
        return Response({"version": ruleset_current().version.split("+")[0],
                         "rules": [spec.__dict__ for spec in builtin_specs()]})


def rule_error_response(exc: RuleError) -> Response:
    """A rule the engine refuses: 422 with a pointer to the field and the character position."""
    error = {"pointer": f"/{exc.field}", "message": exc.message, "position": exc.position}
    return Response({"detail": "the rule is invalid", "errors": [error]}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


class EvaluationRunSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = EvaluationRun
        fields = ["id", "ruleset_version", "status", "total", "done", "changed", "percent", "reason", "error",
                  "created_at", "started_at", "finished_at"]


class EvaluationRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Re-evaluations of every interaction after a rule change, with their progress."""

    serializer_class = EvaluationRunSerializer
    queryset = EvaluationRun.objects.order_by("-created_at", "-id")

