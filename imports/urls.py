from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.import_page, name="import-page"),
    path("imports/preview/", views.import_preview, name="import-preview"),
    path("imports/confirm/", views.import_confirm, name="import-confirm"),
    path("imports/jobs/<int:job_id>/progress/", views.import_job_progress, name="import-job-progress"),
    path("drift/", views.drift_page, name="drift"),
    path("drift/preview/", views.drift_preview, name="drift-preview"),
    path("drift/confirm/", views.drift_confirm, name="drift-confirm"),
]
