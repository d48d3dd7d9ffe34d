"""The landing page: what the registry, the rules, the graph and the probes say right now."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from decisions.charts import declared_vs_recommended
from decisions.recommendations import mismatch_counts, mismatches_worst_first, recommendation_matrix
from probes.selectors import probe_counts
from topology.authentication import ui_actor
from topology.selectors import dashboard_counts, recent_changes, teams_writable_by, workers_alive
from topology.graph_selectors import findings_current


@login_required
def dashboard(request):
    matrix = recommendation_matrix()
    return render(request, "dashboard/dashboard.html", {
        "counts": dashboard_counts(),
        "changes": recent_changes(),
        "workers": workers_alive(),
        "can_create": teams_writable_by(actor=ui_actor(request)).exists(),
        "matrix": matrix,
        "chart": declared_vs_recommended(matrix),
        "mismatches": mismatches_worst_first(limit=15),
        "mismatch_counts": mismatch_counts(),
        "findings": findings_current(),
        "probes": probe_counts(),
    })
