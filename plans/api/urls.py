from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

app_name = "plans-api"

router = DefaultRouter()
router.include_root_view = False
router.register("plans", views.PlanViewSet, basename="plan")

urlpatterns = [
    path("plans/evaluate/", views.PlanEvaluateView.as_view(), name="plan-evaluate"),
    *router.urls,
]
