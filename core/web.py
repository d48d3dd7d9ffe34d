"""Small helpers every app's pages use."""
from django.core.paginator import Page, Paginator
from django.forms import BoundField

PAGE_SIZE = 50


def page_of(request, queryset, *, size: int = PAGE_SIZE) -> Page:
    """The page the request asks for (?page=), the last one when it asks for more."""
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def filter_fields(filterset, **hints: str) -> list[tuple[BoundField, str]]:
    """The fields of the filterset a list page's filter bar shows (includes/_filter_bar.html), in this
    order, each with its hint: a select's empty choice ("Any state"), a text box's example ("e.g. orders")."""
    return [(filterset.form[name], hint) for name, hint in hints.items()]


def is_htmx(request) -> bool:
    """An htmx swap (not a history restore, which needs the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"
