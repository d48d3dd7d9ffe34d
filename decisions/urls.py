from django.urls import path

from . import views

urlpatterns = [
    path("criteria/", views.criteria, name="criteria"),
]
