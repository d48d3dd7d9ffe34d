from django.urls import path

from . import views

urlpatterns = [
    path("plans/", views.plan_page, name="plan"),
    path("plans/save/", views.plan_save_page, name="plan-save"),
    path("plans/accept/", views.plan_accept_page, name="plan-accept"),
    path("plans/<slug:name>/", views.plan_detail, name="plan-detail"),
    path("plans/<slug:name>/accept/", views.plan_detail_accept, name="plan-detail-accept"),
    path("plans/<slug:name>/delete/", views.plan_delete_page, name="plan-delete"),
]
