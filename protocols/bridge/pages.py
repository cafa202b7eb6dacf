"""The dashboard's Home Assistant page: list the owner's brokers, add and remove one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from protocols.bridge import selectors, services


class BrokerForm(forms.Form):
    name = forms.CharField(
        max_length=100, initial="Home Assistant", widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    host = forms.CharField(max_length=255, help_text="Your broker's address, e.g. 192.168.1.10 or mqtt.example.org.")
    port = forms.IntegerField(min_value=1, max_value=65535, initial=1883)
    tls = forms.TypedChoiceField(
        label="TLS",
        choices=[("false", "Off (plain MQTT)"), ("true", "On (MQTT over TLS)")],
        coerce=lambda value: value == "true",
        initial="false",
    )
    username = forms.CharField(max_length=255, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(
        max_length=1024,
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted; never shown again.",
    )
    discovery_prefix = forms.CharField(max_length=100, initial="homeassistant", label="Discovery prefix")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("host") and cleaned.get("port"):
            cleaned["host"] = cleaned["host"].strip()
            errors = services.broker_host_errors(cleaned["host"], port=cleaned["port"])
            if errors:
                self.add_error("host", errors)
        return cleaned

    def clean_discovery_prefix(self) -> str:
        prefix = self.cleaned_data["discovery_prefix"]
        errors = services.discovery_prefix_errors(prefix)
        if errors:
            raise ValidationError(errors)
        return prefix.strip().strip("/")


@login_required
@require_http_methods(["GET", "POST"])
def bridges(request: HttpRequest) -> HttpResponse:
    form = BrokerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        broker = services.broker_create(owner=request.user, **form.cleaned_data)
        messages.success(request, f"“{broker.name}” is added: its devices appear once the bridge connects.")
        return redirect("bridges")
    context: dict[str, Any] = {
        "form": form,
        "brokers": selectors.brokers_of_user(user=request.user).prefetch_related("bridged_devices__device"),
    }
    return render(request, "protocols/bridges.html", context, status=400 if form.is_bound else 200)


@login_required
@require_POST
def bridge_delete(request: HttpRequest, pk: int) -> HttpResponse:
    broker = selectors.broker_get_for_user(user=request.user, broker_id=pk)
    services.broker_delete(broker=broker)
    messages.info(request, f"“{broker.name}” is removed; its devices and readings stay.")
    return redirect("bridges")
