"""gunicorn for the HTTP API and pages (WSGI sync workers): `make serve` and
deploy/systemd/iotsite-web.service. Every value can be set from the environment."""

import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8001")
# Sync workers: bench/ingest.py measured WSGI ahead of ASGI for request/response work
# on the same machine (docs/operations.md).
workers = int(os.environ.get("WEB_WORKERS", "4"))
worker_class = "sync"
# Long enough for a large CSV export, which streams without notifying the master.
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
graceful_timeout = 30
# Recycle workers now and then so a slow leak in any library cannot grow without end.
max_requests = 20_000
max_requests_jitter = 2_000
accesslog = None  # iotsite.log writes one JSON line per request, with its id
errorlog = "-"
# Behind nginx on the same host only; the proxy's X-Forwarded-* headers are trusted.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def child_exit(server, worker):
    # Multi-process metrics (docs/protocols.md): a dead worker's live gauges must go.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
