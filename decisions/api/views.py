"""Decision records over the API: list and filter, read, create, change, delete proposals, and drafts."""
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from topology.authentication import api_actor

from ..choices import DecisionKind
from ..drafts import DraftError
from ..filtersets import DecisionFilterSet
from ..selectors import decision_draft_for, decision_list, interaction_for_decision
from ..services import DecisionInvalid, DecisionNotDeletable, decision_create, decision_delete, decision_update
from .serializers import DecisionDraftSerializer, DecisionSerializer


class DecisionViewSet(viewsets.ModelViewSet):
    """Architecture decision records, newest first. DELETE works only on proposed decisions."""

    serializer_class = DecisionSerializer
    filterset_class = DecisionFilterSet
    lookup_field = "number"
    lookup_value_regex = "[0-9]+"
    # JSON only: the body nests lists and objects, which form and multipart bodies cannot carry.
    parser_classes = [JSONParser]

    def get_queryset(self):
        return decision_list()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = decision_create(actor=api_actor(request), **serializer.validated_data)
        return Response(self._read(decision), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        decision = self.get_object()
        serializer = self.get_serializer(decision, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        saved = decision_update(actor=api_actor(request), decision=decision, **serializer.validated_data)
        return Response(self._read(saved))

    def _read(self, decision) -> dict:
        """The saved decision read back with its joins (and a supersede link set in the same write)."""
        return self.get_serializer(self.get_queryset().get(pk=decision.pk)).data

    @extend_schema(responses={204: None, 409: OpenApiResponse(description="The decision is not proposed.")})
    def destroy(self, request, *args, **kwargs):
        try:
            decision_delete(actor=api_actor(request), decision=self.get_object())
        except DecisionNotDeletable as exc:
            raise Conflict(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            OpenApiParameter("interaction", {"type": "integer", "minimum": 1}, required=True,
                             description="Id of the interaction."),
            OpenApiParameter("kind", str, enum=[DecisionKind.ACCEPT, DecisionKind.OVERRIDE],
                             description="accept (default) or override the recommendation."),
        ],
        responses={200: DecisionDraftSerializer, 404: OpenApiResponse(description="No such interaction."),
                   422: OpenApiResponse(description="No draft can be made, e.g. an override without a declared "
                                                    "style.")},
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def draft(self, request):
        """The prefilled fields of a decision about one interaction, without saving anything."""
        kind = request.query_params.get("kind", DecisionKind.ACCEPT)
        if kind not in (DecisionKind.ACCEPT, DecisionKind.OVERRIDE):
            raise exceptions.ValidationError({"kind": "must be accept or override"})
        raw = request.query_params.get("interaction", "")
        if not (raw.isascii() and raw.isdecimal()):
            raise exceptions.ValidationError({"interaction": "give the id of an interaction"})
        interaction = interaction_for_decision(interaction_id=raw)
        if interaction is None:
            raise exceptions.NotFound(f"no interaction with id {raw}")
        try:
            draft = decision_draft_for(interaction=interaction, kind=kind)
        except DraftError as exc:
            raise DecisionInvalid([{"pointer": "/kind", "message": str(exc)}]) from None
        team = draft["team"]
        draft.update(team=team.slug if team else None, interactions=[item.pk for item in draft["interactions"]])
        return Response(DecisionDraftSerializer(draft).data)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
