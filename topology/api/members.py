"""A team's members over the API: list and add (/teams/<slug>/members/), change a role or remove
(/teams/<slug>/members/<username>/).

Who may do what: every signed-in user and every API token reads the members of any team, as they read
the rest of the registry. Maintainers of the team and staff add, change and remove members. API tokens
never write members, not even their own team's: a token is what CI uses to register services, and must
not be able to hand out access to people (403). A team always keeps one maintainer (409).
"""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core.api import detail, refusal
from core.errors import Invalid

from ..authentication import api_actor
from ..models import Team, TeamMembership
from ..selectors import team_member_of, team_members
from ..services import team_member_add, team_member_remove, team_member_role_change, team_members_write_check
from .serializers import MemberCreateSerializer, MemberRoleSerializer, MemberSerializer

UNSIGNED = {401: detail("Not signed in, and no token or an unknown one.")}
REFUSED = {
    **UNSIGNED,
    403: refusal("Not a maintainer of this team nor staff, or an API token (tokens only read members)."),
    404: detail("No such team, or the user is not a member of it."),
}
INVALID = {400: detail("The body is not JSON or form data."),
           422: refusal("The body is invalid: each error names its field in `pointer` (/username, /role).")}
LAST_MAINTAINER = {409: detail("It would leave the team without a maintainer.")}


def valid_data(serializer) -> dict:
    """The serializer's data, or a 422 whose errors point at the fields (/username, /role)."""
    if not serializer.is_valid():
        raise Invalid([{"pointer": f"/{field}" if field != "non_field_errors" else "", "message": str(message)}
                       for field, messages in serializer.errors.items() for message in messages])
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(summary="The team's members, maintainers first",
                       responses={200: MemberSerializer(many=True), **UNSIGNED, 404: REFUSED[404]}),
    create=extend_schema(summary="Add a user to the team", request=MemberCreateSerializer,
                         responses={201: MemberSerializer, **REFUSED, **INVALID}),
    partial_update=extend_schema(summary="Change a member's role", request=MemberRoleSerializer,
                                 responses={200: MemberSerializer, **REFUSED, **LAST_MAINTAINER, **INVALID}),
    destroy=extend_schema(summary="Remove a member from the team (the user keeps their account)",
                          responses={204: None, **REFUSED, **LAST_MAINTAINER}),
)
class MemberViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Members of a team with their roles. Writes are audited and shown in the team's history."""

    serializer_class = MemberSerializer
    lookup_field = "user__username"
    lookup_url_kwarg = "username"

    def team(self) -> Team:
        if not hasattr(self, "_team"):
            self._team = get_object_or_404(Team, slug=self.kwargs["slug"])
        return self._team

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reads the serializer only
            return TeamMembership.objects.none()
        return team_members(team=self.team())

    def _writer(self):
        """The actor, refused (403) before anything else is looked at when it may not change members."""
        actor = api_actor(self.request)
        team_members_write_check(actor=actor, team=self.team())
        return actor

    def _read(self, username: str) -> dict:
        return MemberSerializer(team_member_of(team=self.team(), username=username)).data

    def create(self, request, *args, **kwargs):
        actor = self._writer()
        data = valid_data(MemberCreateSerializer(data=request.data))
        team_member_add(actor=actor, team=self.team(), username=data["username"], role=data["role"])
        return Response(self._read(data["username"]), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        actor = self._writer()
        membership = self.get_object()
        data = valid_data(MemberRoleSerializer(data=request.data, partial=True))
        if "role" in data:  # a PATCH without a role changes nothing
            team_member_role_change(actor=actor, team=self.team(), membership=membership, role=data["role"])
        return Response(self._read(membership.user.get_username()))

    def destroy(self, request, *args, **kwargs):
        actor = self._writer()
        team_member_remove(actor=actor, team=self.team(), membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
