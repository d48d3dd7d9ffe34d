from django.urls import path

from . import views

SERVICE = "services/<slug:name>/"
INTERACTION = SERVICE + "interactions/<slug:interaction>/"

urlpatterns = [
    path("teams/", views.team_list_view, name="team-list"),
    path("teams/<slug:slug>/", views.team_detail, name="team-detail"),
    path("teams/<slug:slug>/tokens/", views.token_create_view, name="token-create"),
    path("teams/<slug:slug>/tokens/<int:token_id>/revoke/", views.token_revoke_view, name="token-revoke"),
    path("teams/<slug:slug>/members/", views.member_add_view, name="member-add"),
    path("teams/<slug:slug>/members/<str:username>/role/", views.member_role_view, name="member-role"),
    path("teams/<slug:slug>/members/<str:username>/remove/", views.member_remove_view, name="member-remove"),
    path("services/", views.service_list_view, name="service-list"),
    path("register/", views.service_create, name="service-create"),
    path(SERVICE, views.service_detail, name="service-detail"),
    path(SERVICE + "edit/", views.service_edit, name="service-edit"),
    path(SERVICE + "delete/", views.service_delete_view, name="service-delete"),
    path(SERVICE + "interactions/new/", views.interaction_form_page, name="interaction-create"),
    path("interactions/", views.interaction_list_view, name="interaction-list"),
    path(INTERACTION, views.interaction_detail, name="interaction-detail"),
    path(INTERACTION + "edit/", views.interaction_form_page, name="interaction-edit"),
    path(INTERACTION + "delete/", views.interaction_delete, name="interaction-delete"),
]
