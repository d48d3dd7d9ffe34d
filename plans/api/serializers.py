from rest_framework import serializers

from core.inputs import NAME_RE
from topology.choices import Broker

from ..changes import MAX_CHANGES, MAX_TARGETS, STYLES
from ..models import Plan


class PlanChangeSerializer(serializers.Serializer):
    """One proposed change (documents the shape; plans.changes.changes_parse reads it)."""

    interaction = serializers.CharField(help_text="<service>/<name>: the interaction to change or remove, or the "
                                                  "new one to add")
    style = serializers.ChoiceField(choices=STYLES, required=False, help_text="the style it should have")
    channel = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                    help_text="topic or queue (async styles)")
    broker = serializers.ChoiceField(choices=Broker.choices, required=False)  # plans.changes.BROKERS
    criteria = serializers.DictField(required=False, help_text="answers to change (criterion key -> answer; "
                                                               "null clears one)")
    remove = serializers.BooleanField(required=False, default=False, help_text="retire the interaction")
    add = serializers.BooleanField(required=False, default=False,
                                   help_text="a new interaction: `to` names the services it reaches")
    to = serializers.ListField(child=serializers.RegexField(NAME_RE.pattern, max_length=63), required=False, min_length=1,
                               max_length=MAX_TARGETS, help_text="only with add: true")


class PlanChangesSerializer(serializers.Serializer):
    changes = PlanChangeSerializer(many=True, min_length=1, max_length=MAX_CHANGES)


class PlanWriteSerializer(PlanChangesSerializer):
    name = serializers.SlugField()
    title = serializers.CharField()


class PlanSerializer(serializers.ModelSerializer):
    decisions = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = ["name", "title", "changes", "basis", "accepted_at", "decisions", "created_by", "created_at"]

    def get_decisions(self, plan) -> list[str]:
        return sorted(decision.code for decision in plan.decisions.all())
