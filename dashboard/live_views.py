"""The live demo page: public, since its signals are made up and belong to no one."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def live_demo(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/live_demo.html")
