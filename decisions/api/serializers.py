"""Decision records in the API. Shapes are checked here; the rules about whole records in services.py."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from topology.choices import Style
from topology.models import Interaction, Team

from ..choices import DecisionKind, DecisionStatus
from ..models import Decision
from ..services import MAX_ITEM, MAX_OUTCOME


RECOMMENDATION_HELP = (
    "The engine's recommendation when the decision was drafted: style, pattern, protocol, broker, confidence, "
    "ties ({} or, per tied choice, {\"pattern\": {\"options\": [\"pub-sub\", \"queue\"], \"question\": {\"key\", "
    "\"question\", \"cites\", \"answers\": [{\"answer\", \"leads_to\"}]} or null}}: the pattern then names the "
    "option assumed until the tie is broken), scores, reasons (each under the option it supports, with its "
    "effect on it and the answered criteria it rests on) and mismatch.")


class OptionSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_OUTCOME)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    pros = serializers.ListField(child=serializers.CharField(max_length=MAX_ITEM), required=False, default=list)
    cons = serializers.ListField(child=serializers.CharField(max_length=MAX_ITEM), required=False, default=list)


class LinkedInteractionSerializer(serializers.ModelSerializer):
    key = serializers.CharField(read_only=True)
    source = serializers.CharField(source="source.name", read_only=True)

    class Meta:
        model = Interaction
        fields = ["id", "key", "source", "name", "style", "recommended_pattern", "mismatch"]


class DecisionSerializer(serializers.ModelSerializer):
    """An architecture decision record (MADR). `number` is assigned on create; `code` is ADR-0007."""

    code = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=DecisionStatus.choices, required=False, default=DecisionStatus.PROPOSED)
    kind = serializers.ChoiceField(choices=DecisionKind.choices, required=False, default=DecisionKind.GENERAL)
    drivers = serializers.ListField(child=serializers.CharField(max_length=MAX_ITEM), required=False, default=list)
    options = OptionSerializer(many=True, required=False, default=list)
    chosen_style = serializers.ChoiceField(choices=Style.choices, required=False, allow_blank=True, default="")
    recommendation = serializers.DictField(required=False, default=dict, help_text=RECOMMENDATION_HELP)
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all(), required=False,
                                        allow_null=True, default=None, help_text="The deciders.")
    interactions = serializers.PrimaryKeyRelatedField(many=True, queryset=Interaction.objects.all(), required=False,
                                                      default=list, help_text="Ids of the interactions it settles.")
    linked = LinkedInteractionSerializer(source="interactions", many=True, read_only=True)
    supersedes = serializers.SlugRelatedField(slug_field="number", queryset=Decision.objects.all(), required=False,
                                              allow_null=True, default=None,
                                              help_text="The number of the decision this one replaces.")
    superseded_by = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(view_name="decisions-api:decision-detail", lookup_field="number")

    class Meta:
        model = Decision
        fields = ["number", "code", "title", "status", "kind", "context", "drivers", "options", "outcome",
                  "justification", "consequences_good", "consequences_bad", "chosen_style", "recommendation",
                  "decided_on", "team", "interactions", "linked", "supersedes", "superseded_by", "created_by",
                  "created_at", "updated_at", "url"]
        read_only_fields = ["number", "created_by", "created_at", "updated_at"]
        extra_kwargs = {name: {"required": False, "allow_blank": True, "default": ""} for name in (
            "context", "outcome", "justification", "consequences_good", "consequences_bad")}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_superseded_by(self, obj) -> int | None:
        successor = getattr(obj, "superseded_by", None)
        return successor.number if successor is not None else None


class DecisionDraftSerializer(serializers.Serializer):
    """The prefilled fields of a decision about an interaction, ready to be edited and POSTed."""

    title = serializers.CharField()
    status = serializers.CharField()
    kind = serializers.CharField()
    context = serializers.CharField()
    drivers = serializers.ListField(child=serializers.CharField())
    options = OptionSerializer(many=True)
    outcome = serializers.CharField()
    justification = serializers.CharField()
    consequences_good = serializers.CharField()
    consequences_bad = serializers.CharField()
    chosen_style = serializers.CharField()
    recommendation = serializers.DictField(help_text=RECOMMENDATION_HELP)
    team = serializers.CharField(allow_null=True, help_text="Slug of the source service's team.")
    interactions = serializers.ListField(child=serializers.IntegerField())
