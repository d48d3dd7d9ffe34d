from django.urls import path

from . import madr

app_name = "madr-api"

urlpatterns = [
    path("decisions/<str:number>/madr/", madr.DecisionMadrView.as_view(), name="decision-madr"),
    path("exports/decisions.zip", madr.DecisionsZipView.as_view(), name="decisions-zip"),
]
