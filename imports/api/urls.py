from django.urls import path

from . import views

app_name = "imports-api"

urlpatterns = [
    path("imports/dependencies/", views.DependenciesImportView.as_view(), name="import-dependencies"),
    path("imports/backstage/", views.BackstageImportView.as_view(), name="import-backstage"),
    path("imports/asyncapi/", views.AsyncApiImportView.as_view(), name="import-asyncapi"),
    path("imports/jobs/<int:job_id>/", views.ImportJobView.as_view(), name="import-job"),
    path("drift/", views.DriftView.as_view(), name="drift"),
]
