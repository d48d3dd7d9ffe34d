"""The filters of the event list, one set for the page and the API."""
import django_filters

from .choices import DeliveryStatus, EventType
from .models import Event


class EventFilterSet(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=EventType.choices)
    team = django_filters.CharFilter(field_name="concerned__slug", label="Team", distinct=True)
    service = django_filters.CharFilter(field_name="service")
    delivery = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, method="with_delivery",
                                           label="Delivery status")

    class Meta:
        model = Event
        fields = ["type", "team", "service", "delivery"]

    def with_delivery(self, queryset, name, value):
        return queryset.filter(deliveries__status=value).distinct()
