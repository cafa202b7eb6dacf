"""Browser pages. Thin: they check the form, call a service or selector, render.

The pages' scripts talk to the JSON API with the session cookie and the CSRF header,
so renaming, token rotation and plots go through exactly the code the API serves.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import password_validators_help_texts
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.services import UsernameTaken, user_create
from dashboard.cards import ONLINE_WINDOW, device_cards_of_user
from dashboard.forms import DeviceCreateForm, LoginForm, SignUpForm, username_taken_message
from devices.http import server_base_url
from devices.selectors import device_get_for_user, devices_of_user
from devices.services import device_create, device_token_plain
from iotsite.errors import DomainError
from iotsite.replicas import replica_reads
from iotsite.throttling import throttle_form_posts
from telemetry.images import last_image, last_image_keeping_set
from telemetry.selectors import sensors_of_device


def _safe_next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return reverse("dashboard")


def _render_login(request: HttpRequest, *, login_form: LoginForm, signup_form: SignUpForm, status: int = 200):
    context = {
        "login_form": login_form,
        "signup_form": signup_form,
        "password_rules": password_validators_help_texts(),
        "next": _safe_next(request),
        "signup_active": signup_form.is_bound,
    }
    return render(request, "dashboard/login.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@throttle_form_posts
def login_page(request: HttpRequest) -> HttpResponse:
    """Log in and create an account on one page; this view handles the log-in form."""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request))
    login_form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    if login_form.is_bound and login_form.is_valid():
        login(request, login_form.get_user())
        return redirect(_safe_next(request))
    status = 400 if login_form.is_bound else 200
    return _render_login(request, login_form=login_form, signup_form=SignUpForm(), status=status)


@never_cache
@require_POST
@throttle_form_posts
def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST)
    if form.is_valid():
        try:
            user = user_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                email=form.cleaned_data["email"],
            )
        except UsernameTaken:  # a concurrent sign-up took the name after our check
            form.add_error("username", username_taken_message(form.cleaned_data["username"]))
        else:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            name = form.cleaned_data["username"]
            messages.success(request, f"Welcome, {name}. Add your first device to get started.")
            return redirect(_safe_next(request))
    return _render_login(request, login_form=LoginForm(request), signup_form=form, status=400)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are logged out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
@require_GET
@replica_reads
def dashboard(request: HttpRequest) -> HttpResponse:
    cards = device_cards_of_user(user=request.user)
    context = {"cards": cards, "online_window_seconds": int(ONLINE_WINDOW.total_seconds())}
    return render(request, "dashboard/dashboard.html", context)


@never_cache
@login_required
@require_GET
@replica_reads
def cards_refresh(request: HttpRequest) -> JsonResponse:
    """Each card's latest reading, rendered by the same template as the page, so the
    dashboard keeps up without a reload."""
    cards = device_cards_of_user(user=request.user)
    return JsonResponse(
        {
            "cards": [
                {
                    "id": card.device.pk,
                    "last_seen_at": card.device.last_seen_at,
                    "offline": card.offline,
                    "reading_html": render_to_string("dashboard/_reading.html", {"card": card}, request=request),
                }
                for card in cards
            ]
        }
    )


@login_required
@require_http_methods(["GET", "POST"])
def device_new(request: HttpRequest) -> HttpResponse:
    form = DeviceCreateForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            device, _token = device_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                type=form.cleaned_data["type"],
                description=form.cleaned_data["description"],
                config=form.cleaned_data["config"],
            )
        except DomainError as error:  # a name clash that raced our check
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"“{device.name}” is ready. Give it the token below.")
            return redirect("device-connect", pk=device.pk)
    status = 400 if form.is_bound else 200
    return render(request, "dashboard/device_new.html", {"form": form}, status=status)


@never_cache
@login_required
@require_GET
def device_connect(request: HttpRequest, pk: int) -> HttpResponse:
    """The device's QR code and token, and how to send a first reading with it."""
    device = device_get_for_user(user=request.user, device_id=pk)
    context = {
        "device": device,
        "token": device_token_plain(device=device),
        "server": server_base_url(request),
    }
    return render(request, "dashboard/device_connect.html", context)


@never_cache
@login_required
@require_GET
def device_token(request: HttpRequest, pk: int) -> JsonResponse:
    """The device's current token for its owner's eyes, fetched only when asked."""
    device = device_get_for_user(user=request.user, device_id=pk)
    return JsonResponse({"token": device_token_plain(device=device), "token_hint": device.token_hint})


@login_required
@require_GET
@replica_reads
def device_plots(request: HttpRequest, pk: int) -> HttpResponse:
    device = device_get_for_user(user=request.user, device_id=pk)
    sensors = list(sensors_of_device(device=device))
    context = {"device": device, "sensors": sensors, "last_image": last_image(device)}
    return render(request, "dashboard/plots.html", context)


@never_cache
@login_required
@require_GET
def device_last_image(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The device's last photo, or the overlay of what the reader found in it, for its owner."""
    device = device_get_for_user(user=request.user, device_id=pk)
    kept = last_image(device)
    path = kept and kept["photo" if kind == "photo" else "overlay"]
    if not path or not path.is_file():
        raise Http404("No photo kept for this device.")
    content_type = "image/png" if path.suffix == ".png" else "image/jpeg"
    return HttpResponse(path.read_bytes(), content_type=content_type)


@login_required
@require_POST
def device_keep_last_image(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn keeping the device's last photo on or off (off forgets the kept one)."""
    device = device_get_for_user(user=request.user, device_id=pk)
    keep = request.POST.get("keep_last_image") == "on"
    last_image_keeping_set(device=device, keep=keep)
    if keep:
        messages.success(request, "The next photo and what the reader finds in it will show here.")
    else:
        messages.success(request, "Photos are no longer kept; the last one is deleted.")
    return redirect("device-plots", pk=device.pk)


@login_required
@require_GET
@replica_reads
def download(request: HttpRequest) -> HttpResponse:
    devices = list(devices_of_user(user=request.user))
    sensor_keys = sorted({sensor.key for device in devices for sensor in device.sensors.all()})
    return render(request, "dashboard/download.html", {"devices": devices, "sensor_keys": sensor_keys})
