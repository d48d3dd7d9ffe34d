from django.urls import path

from . import views

urlpatterns = [
    path("drift/", views.drift_page, name="drift"),
    path("drift/preview/", views.drift_preview, name="drift-preview"),
    path("drift/confirm/", views.drift_confirm, name="drift-confirm"),
]
