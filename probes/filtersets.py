"""Filters shared by the probe list page and the API."""
import django_filters
from django.db.models import Q

from .choices import ProbeKind, ProbeOutcome
from .models import Probe

NOT_RUN = "unknown"


class ProbeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    service = django_filters.CharFilter(field_name="service__name", label="Service")
    team = django_filters.CharFilter(field_name="service__team__slug", label="Team")
    kind = django_filters.ChoiceFilter(choices=ProbeKind.choices, label="Kind")
    state = django_filters.ChoiceFilter(choices=[*ProbeOutcome.choices, (NOT_RUN, "Not run yet")],
                                        method="by_state", label="State")
    location = django_filters.CharFilter(method="by_location", label="Location")

    class Meta:
        model = Probe
        fields = ["q", "service", "team", "kind", "state", "location"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(service__name__icontains=value)
                               | Q(target__icontains=value))

    def by_state(self, queryset, name, value):
        """Probes with at least one location in this state."""
        return queryset.filter(statuses__outcome="" if value == NOT_RUN else value).distinct()

    def by_location(self, queryset, name, value):
        return queryset.filter(statuses__location=value).distinct()
