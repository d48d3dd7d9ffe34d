"""Plans API: evaluate proposed changes against the registry as it is, storing nothing."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import refusal
from core.errors import Invalid

from ..changes import changes_parse
from ..evaluation import plan_evaluate

EXAMPLE = {"changes": [{"interaction": "orders/authorize-payment", "style": "queue", "channel": "payments.requests",
                        "broker": "rabbitmq", "criteria": {"can_defer": True}}]}


class PlanEvaluateView(APIView):
    """What-if on the whole system: the findings and mismatches before and after the changes, what
    got better and what got worse (blast radius, chains, cycles, availability, new broker
    dependencies), each changed interaction's new recommendation, and the migration steps."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, 422: refusal("a change names no interaction or is not valid; nothing was evaluated")},
                   examples=[OpenApiExample("make a call asynchronous", value=EXAMPLE, request_only=True)],
                   operation_id="plans_evaluate")
    def post(self, request):
        changes, errors = changes_parse(request.data)
        if errors:
            raise Invalid(errors)
        return Response(plan_evaluate(changes=changes))
