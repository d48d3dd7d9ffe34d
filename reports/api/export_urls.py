from django.urls import path

from . import exports

app_name = "exports-api"

urlpatterns = [
    path("exports/mermaid/", exports.MermaidReportView.as_view(), name="mermaid-report"),
    path("exports/mermaid.zip", exports.MermaidZipView.as_view(), name="mermaid-zip"),
]
