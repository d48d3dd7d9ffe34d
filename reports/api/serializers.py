from django.urls import reverse
from rest_framework import serializers

from ..job_selectors import report_scope_of, report_state
from ..models import Report


class ScopeSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["system", "team", "service"], source="kind")
    team = serializers.CharField()
    service = serializers.CharField()
    hops = serializers.IntegerField()
    label = serializers.CharField()


class ReportRequestSerializer(serializers.Serializer):
    """The body of POST /api/v1/reports/: {} or {"scope": "system"}; {"scope": "team", "team": "commerce"};
    {"scope": "service", "service": "orders", "hops": 2}."""

    scope = serializers.ChoiceField(choices=["system", "team", "service"], required=False, default="system")
    team = serializers.CharField(required=False)
    service = serializers.CharField(required=False)
    hops = serializers.IntegerField(required=False, min_value=1)


class ReportSerializer(serializers.ModelSerializer):
    """A PDF report job: queued, running (with progress 0-100 and its current step), done or failed."""

    url = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField(help_text="The report's page in the browser")
    status = serializers.CharField(read_only=True, help_text="queued, running, done or failed")
    error = serializers.CharField(read_only=True, help_text="Why it failed and what to do; empty otherwise")
    scope = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField(help_text="The PDF, once done (null before, and once pruned)")

    class Meta:
        model = Report
        fields = ["id", "url", "page", "status", "progress", "step", "error", "scope", "requested_by",
                  "requested_via", "created_at", "started_at", "finished_at", "pages", "size", "ruleset_version",
                  "download", "pruned_at"]

    def _absolute(self, path: str) -> str:
        return self.context["request"].build_absolute_uri(path)

    def get_url(self, report) -> str:
        return self._absolute(reverse("reports-api:report-detail", args=[report.pk]))

    def get_page(self, report) -> str:
        return self._absolute(report.get_absolute_url())

    def to_representation(self, report) -> dict:
        """Status and error as a person should see them (report_state), read once."""
        data = super().to_representation(report)
        state = report_state(report)
        data["status"], data["error"] = state.status, state.error
        return data

    def get_scope(self, report) -> dict:
        return ScopeSerializer(report_scope_of(report)).data

    def get_download(self, report) -> str | None:
        if report.status != "done" or report.pruned_at:
            return None
        return self._absolute(reverse("reports-api:report-download", args=[report.pk]))
