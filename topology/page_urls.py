"""Browser URLs of the topology diagram and the flows (mounted at the site root)."""
from django.urls import path

from . import page_views

urlpatterns = [
    path("topology/", page_views.topology_page, name="topology"),
    path("flows/", page_views.flow_list_page, name="flow-list"),
    # Before <slug>: a flow cannot be called "new" or "derive" in the browser (the API still reaches it).
    path("flows/new/", page_views.flow_form_page, name="flow-create"),
    path("flows/derive/", page_views.flow_derive, name="flow-derive"),
    path("flows/<slug:slug>/", page_views.flow_detail, name="flow-detail"),
    path("flows/<slug:slug>/edit/", page_views.flow_form_page, name="flow-edit"),
    path("flows/<slug:slug>/delete/", page_views.flow_delete_page, name="flow-delete"),
]
