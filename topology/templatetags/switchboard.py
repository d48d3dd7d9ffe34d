from django import template

register = template.Library()


@register.filter
def pairs(mapping) -> list[tuple]:
    """A map's (key, value) pairs sorted by key; safe for keys such as 'items'."""
    return sorted(mapping.items()) if isinstance(mapping, dict) else []
