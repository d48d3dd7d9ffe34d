"""Small helpers every app's pages use."""
from django.core.paginator import Page, Paginator

PAGE_SIZE = 50


def page_of(request, queryset, *, size: int = PAGE_SIZE) -> Page:
    """The page the request asks for (?page=), the last one when it asks for more."""
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def is_htmx(request) -> bool:
    """An htmx swap (not a history restore, which needs the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"
