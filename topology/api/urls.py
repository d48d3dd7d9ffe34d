from django.urls import path
from rest_framework.routers import DefaultRouter

from . import diagrams, views

app_name = "api"

router = DefaultRouter()
router.register("teams", views.TeamViewSet, basename="team")
router.register("services", views.ServiceViewSet, basename="service")
router.register("interactions", views.InteractionViewSet, basename="interaction")
router.register("flows", diagrams.FlowViewSet, basename="flow")

urlpatterns = [
    path("registrations/", views.RegistrationView.as_view(), name="registrations"),
    path("topology/", diagrams.TopologyView.as_view(), name="topology"),
    path("topology/findings/", diagrams.FindingsView.as_view(), name="topology-findings"),
    path("diagrams/sequence/", diagrams.SequenceDiagramView.as_view(), name="diagram-sequence"),
    path("diagrams/flowchart/", diagrams.FlowchartView.as_view(), name="diagram-flowchart"),
    *router.urls,
]
