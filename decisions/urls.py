from django.urls import path

from . import views

urlpatterns = [
    path("criteria/", views.criteria, name="criteria"),
    path("decisions/", views.decision_list_view, name="decision-list"),
    path("decisions/new/", views.decision_create_view, name="decision-create"),
    path("decisions/<int:number>/", views.decision_detail, name="decision-detail"),
    path("decisions/<int:number>/edit/", views.decision_edit, name="decision-edit"),
]
