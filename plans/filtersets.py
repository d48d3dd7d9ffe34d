"""Filters shared by the saved-plans list on the page and /api/v1/plans/."""
import django_filters
from django.db.models import Q

from .models import Plan

STATUS = (("open", "Not accepted"), ("accepted", "Accepted"))


class PlanFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name, title or author", max_length=200)
    status = django_filters.ChoiceFilter(choices=STATUS, method="by_status", label="Accepted", empty_label="Any")

    class Meta:
        model = Plan
        fields = ["q", "status"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(title__icontains=value) | Q(created_by__icontains=value))

    def by_status(self, queryset, name, value):
        return queryset.filter(accepted_at__isnull=value == "open")
