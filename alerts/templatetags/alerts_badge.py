"""The nav's badge: how many firing alerts the user has not acknowledged yet."""

from django import template
from django.utils.html import format_html

from alerts.selectors import alerts_unacknowledged_count

register = template.Library()

# Styled by .nav-badge in app.css, which every page loads: the Content-Security-Policy
# refuses style attributes.


@register.simple_tag(takes_context=True)
def alerts_badge(context) -> str:
    user = getattr(context.get("request"), "user", None)
    count = alerts_unacknowledged_count(user_id=user.pk) if user is not None and user.is_authenticated else 0
    return format_html(
        '<span class="nav-badge" data-alerts-badge{}>{}</span><span class="visually-hidden"> unacknowledged</span>',
        " hidden" if not count else "",
        count,
    )
