from django.urls import path

from . import probe_views

PROBE = "services/<slug:name>/probes/<slug:probe>/"

urlpatterns = [
    path("probes/", probe_views.probe_list_view, name="probe-list"),
    path("services/<slug:name>/probes/new/", probe_views.probe_create, name="probe-create"),
    path(PROBE, probe_views.probe_detail, name="probe-detail"),
    path(PROBE + "edit/", probe_views.probe_edit, name="probe-edit"),
    path(PROBE + "delete/", probe_views.probe_delete, name="probe-delete"),
    path(PROBE + "run/", probe_views.probe_run, name="probe-run"),
    path(PROBE + "run/status/", probe_views.probe_run_status, name="probe-run-status"),
]
