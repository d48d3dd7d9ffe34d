"""Browser URLs of the rules pages and of an interaction's live what-if (mounted at the site root)."""
from django.urls import path

from . import rule_views

urlpatterns = [
    path("services/<slug:name>/interactions/<slug:interaction>/what-if/", rule_views.interaction_what_if,
         name="interaction-what-if"),
    path("rules/", rule_views.rule_list, name="rule-list"),
    path("rules/new/", rule_views.rule_form_page, name="rule-create"),
    path("rules/preview/", rule_views.rule_preview, name="rule-preview"),
    path("rules/evaluations/<int:run_id>/", rule_views.evaluation_progress, name="evaluation-progress"),
    path("rules/<slug:slug>/", rule_views.rule_form_page, name="rule-edit"),
    path("rules/<slug:slug>/preview/", rule_views.rule_preview, name="rule-edit-preview"),
    path("rules/<slug:slug>/delete/", rule_views.rule_delete, name="rule-delete"),
]
