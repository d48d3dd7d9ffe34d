from django.urls import path
from rest_framework.routers import DefaultRouter

from . import diagrams, members, views

app_name = "api"

router = DefaultRouter()
router.register("teams", views.TeamViewSet, basename="team")
router.register("services", views.ServiceViewSet, basename="service")
router.register("interactions", views.InteractionViewSet, basename="interaction")
router.register("flows", diagrams.FlowViewSet, basename="flow")

MEMBERS = members.MemberViewSet

urlpatterns = [
    path("teams/<slug:slug>/members/", MEMBERS.as_view({"get": "list", "post": "create"}), name="team-members"),
    path("teams/<slug:slug>/members/<str:username>/", MEMBERS.as_view({"patch": "partial_update", "delete": "destroy"}),
         name="team-member"),
    path("registrations/", views.RegistrationView.as_view(), name="registrations"),
    path("manifest/schema.json", views.ManifestSchemaView.as_view(), name="manifest-schema"),
    path("topology/", diagrams.TopologyView.as_view(), name="topology"),
    path("topology/findings/", diagrams.FindingsView.as_view(), name="topology-findings"),
    path("diagrams/sequence/", diagrams.SequenceDiagramView.as_view(), name="diagram-sequence"),
    path("diagrams/flowchart/", diagrams.FlowchartView.as_view(), name="diagram-flowchart"),
    *router.urls,
]
