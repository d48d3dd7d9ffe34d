from django.urls import path

from . import views

urlpatterns = [
    path("plans/", views.plan_page, name="plan"),
    path("plans/accept/", views.plan_accept_page, name="plan-accept"),
]
