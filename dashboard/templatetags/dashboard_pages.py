"""Template helpers for the page chrome."""

from django import template
from django.urls import Resolver404, resolve
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def page_exists(path: str) -> bool:
    """Whether some app serves `path`: the nav links pages that other apps add
    (alerts) only once they exist."""
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


@register.simple_tag(takes_context=True)
def current(context, *url_names: str) -> str:
    """aria-current for the nav link of the page being shown."""
    match = getattr(context.get("request"), "resolver_match", None)
    return mark_safe('aria-current="page"') if match and match.url_name in url_names else ""
