from django.urls import path

from . import views

urlpatterns = [
    path("reports/", views.report_list, name="report-list"),
    path("reports/new/", views.report_create, name="report-create"),
    path("reports/preview/", views.report_preview, name="report-preview"),
    path("reports/<int:report_id>/", views.report_detail, name="report-detail"),
    path("reports/<int:report_id>/progress/", views.report_progress, name="report-progress"),
    path("reports/<int:report_id>/report.pdf", views.report_download, name="report-download"),
]
