from django.shortcuts import redirect


def home(request):
    # The browser dashboard lands here; until a session exists the browsable API is home.
    return redirect("/api/devices/" if request.user.is_authenticated else "/api-auth/login/?next=/api/devices/")
