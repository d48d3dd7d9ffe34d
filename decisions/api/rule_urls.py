from django.urls import path
from rest_framework.routers import DefaultRouter

from . import rules

app_name = "rules-api"

router = DefaultRouter()
router.include_root_view = False
router.register("rules", rules.CustomRuleViewSet, basename="rule")
router.register("evaluations", rules.EvaluationRunViewSet, basename="evaluation")

urlpatterns = [
    path("recommendations/evaluate/", rules.EvaluateView.as_view(), name="evaluate"),
    *router.urls,
]
