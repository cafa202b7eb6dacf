"""Alert pages: the history (filter, acknowledge) and a device's rules panel.

Like the other pages, their scripts change things through the JSON API
(/api/alerts/{id}/ack/, /api/alert-rules/, /api/notification-channels/).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alerts.models import AlertEvent
from alerts.selectors import alert_events_of_user, alert_rules_of_user, notification_channels_of_user
from devices.selectors import device_get_for_user, devices_of_user
from telemetry.selectors import sensors_of_device

EVENTS_PER_PAGE = 50


class AlertHistoryFilterForm(forms.Form):
    device = forms.IntegerField(required=False, min_value=1)
    state = forms.ChoiceField(required=False, choices=[("", "Any"), *AlertEvent.STATES])
    start = forms.DateTimeField(required=False)
    end = forms.DateTimeField(required=False)
    acknowledged = forms.TypedChoiceField(
        required=False,
        choices=[("", "Any"), ("false", "Not yet"), ("true", "Yes")],
        coerce=lambda text: text == "true",
        empty_value=None,
    )


@login_required
@require_GET
def alert_history(request: HttpRequest) -> HttpResponse:
    devices = list(devices_of_user(user=request.user))
    filters = AlertHistoryFilterForm(request.GET)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    events = alert_events_of_user(user=request.user, **{k: v for k, v in criteria.items() if v not in (None, "")})
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "devices": devices,
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "filtered": bool(criteria and any(v not in (None, "") for v in criteria.values())),
    }
    return render(request, "dashboard/alerts.html", context, status=200 if filters.is_valid() else 400)


@login_required
@require_GET
def device_alert_rules(request: HttpRequest, pk: int) -> HttpResponse:
    device = device_get_for_user(user=request.user, device_id=pk)
    context = {
        "device": device,
        "rules": list(alert_rules_of_user(user=request.user, device_id=device.pk)),
        "sensors": list(sensors_of_device(device=device)),
        "channels": list(notification_channels_of_user(user=request.user)),
    }
    return render(request, "dashboard/alerts_rules.html", context)
