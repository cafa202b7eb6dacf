from telemetry.models import Reading


def post(client, body, **extra):
    return client.post("/api/telemetry/", body, format="json", **extra)


def stored(device) -> list[tuple[str, str, float]]:
    """(sensor, ISO time, value) of every stored reading of a device, in order."""
    rows = Reading.objects.filter(sensor__device=device).order_by("sensor__key", "ts")
    return [(r.sensor.key, r.ts.isoformat(), r.value) for r in rows.select_related("sensor")]
