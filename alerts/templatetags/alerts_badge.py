"""The nav's badge: how many firing alerts the user has not acknowledged yet."""

from django import template
from django.utils.html import format_html

from alerts.selectors import alerts_unacknowledged_count

register = template.Library()

# Styled here, not in a page's stylesheet: the nav is on every page.
_BADGE_STYLE = (
    "display:inline-block;min-width:1.25rem;margin-left:4px;padding:0 6px;border-radius:999px;"
    "background:var(--danger);color:#fff;font-size:0.75rem;line-height:1.25rem;text-align:center"
)


@register.simple_tag(takes_context=True)
def alerts_badge(context) -> str:
    user = getattr(context.get("request"), "user", None)
    count = alerts_unacknowledged_count(user_id=user.pk) if user is not None and user.is_authenticated else 0
    return format_html(
        '<span class="nav-badge" data-alerts-badge style="{}"{}>{}</span>'
        '<span class="visually-hidden"> unacknowledged</span>',
        _BADGE_STYLE,
        " hidden" if not count else "",
        count,
    )
