"""Filters of the decision list, shared by the browser page and the API."""
import re

import django_filters
from django.db.models import Q

from topology.models import Interaction, Team

from .choices import DecisionKind, DecisionStatus
from .models import Decision

CODE = re.compile(r"^\s*(?:adr-?)?0*(\d{1,9})\s*$", re.IGNORECASE)


class DecisionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(choices=DecisionStatus.choices)
    kind = django_filters.ChoiceFilter(choices=DecisionKind.choices)
    team = django_filters.ModelChoiceFilter(
        field_name="team", queryset=Team.objects.all(), to_field_name="slug", label="Team"
    )
    service = django_filters.CharFilter(method="by_service", label="Service")

    class Meta:
        model = Decision
        fields = ["q", "status", "kind", "team", "service"]

    def search(self, queryset, name, value):
        """Words of the title, or a decision's code: 'ADR-0007', 'adr-7' or '7'."""
        value = value.strip()
        if not value:
            return queryset
        match = Q(title__icontains=value)
        code = CODE.match(value)
        if code:
            match |= Q(number=int(code.group(1)))
        return queryset.filter(match)

    def by_service(self, queryset, name, value):
        """Decisions linked to an interaction that the service sends or receives."""
        value = value.strip()
        if not value:
            return queryset
        touching = Interaction.objects.filter(Q(source__name=value) | Q(target_links__service__name=value))
        links = Decision.interactions.through.objects.filter(interaction__in=touching.values("pk"))
        return queryset.filter(pk__in=links.values("decision_id"))
