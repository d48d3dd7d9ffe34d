"""Filters shared by the browser lists and the API."""
import django_filters
from django.db.models import Q

from .choices import Broker, Lifecycle, Style
from .models import Interaction, Service, Team

UNDECIDED = "undecided"


class ServiceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    team = django_filters.ModelChoiceFilter(
        field_name="team", queryset=Team.objects.all(), to_field_name="slug", label="Team"
    )
    lifecycle = django_filters.ChoiceFilter(choices=Lifecycle.choices)
    placeholder = django_filters.BooleanFilter(field_name="team", lookup_expr="isnull", label="Placeholder")

    class Meta:
        model = Service
        fields = ["q", "team", "lifecycle", "placeholder"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )


class InteractionFilterSet(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="source__name", label="Source service")
    target = django_filters.CharFilter(method="by_target", label="Target service")
    style = django_filters.ChoiceFilter(
        choices=[*Style.choices, (UNDECIDED, "Undecided")], method="by_style"
    )
    broker = django_filters.ChoiceFilter(choices=Broker.choices)

    class Meta:
        model = Interaction
        fields = ["service", "target", "style", "broker"]

    def by_target(self, queryset, name, value):
        return queryset.filter(target_links__service__name=value)

    def by_style(self, queryset, name, value):
        return queryset.filter(style="" if value == UNDECIDED else value)
