"""gunicorn for the HTTP API and pages (WSGI threaded workers): `make serve` and
deploy/systemd/iotsite-web.service. Every value can be set from the environment."""

import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8001")
# Threaded WSGI workers (docs/operations.md, bench/device_path.py): a worker process
# answers many device POSTs at once, and its group commit stores them in one commit;
# a sync worker would hold one request, and one commit, at a time. Few processes (one
# per core) make bigger groups; each thread keeps its own database connection, so
# workers x threads stays well under PostgreSQL's max_connections.
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "32"))
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
