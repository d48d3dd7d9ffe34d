from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api"

router = DefaultRouter()
router.register("teams", views.TeamViewSet, basename="team")
router.register("services", views.ServiceViewSet, basename="service")
router.register("interactions", views.InteractionViewSet, basename="interaction")

urlpatterns = [
    path("registrations/", views.RegistrationView.as_view(), name="registrations"),
    *router.urls,
]
