from django.urls import path

from . import views

app_name = "plans-api"

urlpatterns = [
    path("plans/evaluate/", views.PlanEvaluateView.as_view(), name="plan-evaluate"),
]
