"""Plans API: evaluate proposed changes against the registry as it is, storing nothing."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from django.http import HttpResponse
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import JSON, detail, refusal
from core.errors import Invalid

from topology.authentication import api_actor

from ..changes import changes_parse
from ..evaluation import plan_charts, plan_evaluate, plan_stored_evaluate
from ..markdown import plan_markdown
from ..filtersets import PlanFilterSet
from ..selectors import plans_list, plans_summarised
from ..services import plan_accept, plan_delete, plan_save
from .serializers import PlanChangesSerializer, PlanSerializer, PlanWriteSerializer

EXAMPLE = {"changes": [{"interaction": "orders/authorize-payment", "style": "queue", "channel": "payments.requests",
                        "broker": "rabbitmq", "criteria": {"can_defer": True}}]}
EXAMPLE_NEW = {"changes": [
    {"interaction": "orders/order-shipped", "add": True, "to": ["notifications", "analytics"], "style": "pubsub",
     "channel": "orders.shipped", "broker": "kafka"},
    {"interaction": "orders/get-stock", "remove": True}]}


class PlanEvaluateView(APIView):
    """What-if on the whole system: the findings and mismatches before and after the changes, what
    got better and what got worse (blast radius, chains, cycles, availability, new broker
    dependencies), each changed interaction's new recommendation, and the migration steps."""

    @extend_schema(request=PlanChangesSerializer, responses={200: OpenApiTypes.OBJECT, 422: refusal(
                       "a change names no interaction (or adds one that exists, or from or to a service that does "
                       "not), or is not valid; nothing was evaluated")},
                   examples=[OpenApiExample("make a call asynchronous", value=EXAMPLE, request_only=True),
                             OpenApiExample("add an event, retire a call", value=EXAMPLE_NEW, request_only=True)],
                   operation_id="plans_evaluate")
    def post(self, request):
        changes, errors = changes_parse(request.data)
        if errors:
            raise Invalid(errors)
        return Response(plan_evaluate(changes=changes))


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Named plans. Anyone signed in reads them; maintainers of a team whose interactions a plan
    changes (or staff) save it; its author or those maintainers remove it. A stored plan is
    evaluated against the registry of now, and says when it no longer applies."""

    serializer_class = PlanSerializer
    queryset = plans_list()
    filterset_class = PlanFilterSet
    lookup_field = "name"

    def list(self, request):
        """One page of plans, newest first, each with whether it applies (the registry read once)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        summaries = {summary["plan"].pk: summary for summary in plans_summarised(plans=page)}
        serializer = self.get_serializer(page, many=True, context={**self.get_serializer_context(),
                                                                   "summaries": summaries})
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=PlanWriteSerializer, responses={201: PlanSerializer, 422: refusal("invalid plan")})
    def create(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        plan = plan_save(actor=api_actor(request), name=body.get("name"), title=body.get("title"),
                         body={"changes": body.get("changes")})
        return Response(self.get_serializer(plan).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, name=None):
        plan_delete(actor=api_actor(request), plan=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def evaluation(self, request, name=None):
        """The plan against the registry of now: {plan, applies, stale: [...], evaluation}."""
        return Response(plan_stored_evaluate(plan=self.get_object()))

    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT,
                                            (409, JSON): detail("The plan was accepted already, or no longer applies.")})
    @action(detail=True, methods=["post"])
    def accept(self, request, name=None):
        """Draft one proposed decision record per changed interaction, linked through the plan."""
        plan = self.get_object()
        decisions = plan_accept(actor=api_actor(request), plan=plan)
        return Response({"plan": plan.name, "decisions": [d.code for d in decisions]}, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "text/markdown"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def markdown(self, request, name=None):
        """The plan as Markdown with Mermaid flowcharts before and after."""
        plan = self.get_object()
        stored = plan_stored_evaluate(plan=plan)
        if stored["evaluation"] is None:
            raise Invalid([{"pointer": "", "message": "; ".join(stored["stale"])}])
        changes, _ = changes_parse({"changes": plan.changes})
        before, after = plan_charts(changes=changes)
        text = plan_markdown(name=plan.name, title=plan.title, evaluation=stored["evaluation"], before_chart=before,
                             after_chart=after, stale=stored["stale"])
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="plan-{plan.name}.md"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, HttpResponse) and not isinstance(response, Response):
            return response  # the Markdown file: not for content negotiation
        return super().finalize_response(request, response, *args, **kwargs)
