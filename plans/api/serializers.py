from rest_framework import serializers

from ..models import Plan


class PlanWriteSerializer(serializers.Serializer):
    name = serializers.SlugField()
    title = serializers.CharField()
    changes = serializers.ListField(child=serializers.DictField())


class PlanSerializer(serializers.ModelSerializer):
    decisions = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = ["name", "title", "changes", "basis", "accepted_at", "decisions", "created_by", "created_at"]

    def get_decisions(self, plan) -> list[str]:
        return sorted(decision.code for decision in plan.decisions.all())
