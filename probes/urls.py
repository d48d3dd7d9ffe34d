from django.urls import path

from . import views

PROBE = "services/<slug:name>/probes/<slug:probe>/"

urlpatterns = [
    path("probes/", views.probe_list_view, name="probe-list"),
    path("services/<slug:name>/probes/new/", views.probe_form_page, name="probe-create"),
    path(PROBE, views.probe_detail, name="probe-detail"),
    path(PROBE + "edit/", views.probe_form_page, name="probe-edit"),
    path(PROBE + "delete/", views.probe_delete, name="probe-delete"),
    path(PROBE + "run/", views.probe_run, name="probe-run"),
    path(PROBE + "run/status/", views.probe_run_status, name="probe-run-status"),
]
