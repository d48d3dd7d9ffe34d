from django.urls import path

from . import views

app_name = "imports-api"

urlpatterns = [
    path("imports/dependencies/", views.DependenciesImportView.as_view(), name="import-dependencies"),
    path("drift/", views.DriftView.as_view(), name="drift"),
]
