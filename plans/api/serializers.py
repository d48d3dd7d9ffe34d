from rest_framework import serializers

from core.inputs import NAME_RE
from topology.choices import Broker

from ..changes import MAX_CHANGES, MAX_TARGETS, STYLES
from ..models import Plan
from ..selectors import plans_summarised


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
    """A stored plan, with whether it still applies to the registry of now (`stale` says why not) and
    the teams whose services it changes. A list reads the registry once for the whole page: the view
    passes `summaries` (plans.selectors.plans_summarised) in the context."""

    decisions = serializers.SerializerMethodField()
    applies = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField()
    teams = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = ["name", "title", "changes", "basis", "applies", "stale", "teams", "accepted_at", "decisions",
                  "created_by", "created_at"]

    def _summary(self, plan) -> dict:
        summaries = self.context.setdefault("summaries", {})
        if plan.pk not in summaries:
            summaries[plan.pk] = plans_summarised(plans=[plan])[0]
        return summaries[plan.pk]

    def get_decisions(self, plan) -> list[str]:
        return sorted(decision.code for decision in plan.decisions.all())

    def get_applies(self, plan) -> bool:
        return not self._summary(plan)["stale"]

    def get_stale(self, plan) -> list[str]:
        return self._summary(plan)["stale"]

    def get_teams(self, plan) -> list[str]:
        return self._summary(plan)["teams"]
