from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .criteria import CRITERIA, SECTIONS, anchor


@login_required
def criteria(request):
    """The criteria digest, with anchors the interaction form's questions link to."""
    sections = [
        {"number": s.number, "title": s.title, "points": [(pid, anchor(pid), text) for pid, text in s.points]}
        for s in SECTIONS
    ]
    questions = [{"criterion": c, "anchor": anchor(c.cites)} for c in CRITERIA]
    return render(request, "decisions/criteria.html", {"sections": sections, "questions": questions})
