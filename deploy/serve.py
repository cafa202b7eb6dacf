#!/usr/bin/env python
"""`make serve`: the production layout on one machine, in the foreground.

    nginx :8000 ─┬─ /ws/, long-polls → uvicorn (ASGI)          127.0.0.1:8002
                 └─ else            → gunicorn (WSGI workers)  127.0.0.1:8001
    sendalerts, mqtt_ingest and mqtt_devicecomm (when those commands exist; the MQTT
    ones when MQTT_HOST is set)

nginx is Debian's (the Makefile installs it when missing) running deploy/nginx.conf,
rendered for this machine by nginx_config(). The app servers trust forwarding headers
from 127.0.0.1 only, and the throttles and the log-in lockout count the address nginx
appends to X-Forwarded-For (NUM_PROXIES=1), never one a client wrote there.

DEBUG off, PostgreSQL (DATABASE_URL, default the local `iotsite` database, created when
missing), Redis (REDIS_URL) for the cache and channel layer, JSON logs with request
ids. Before serving: the deploy check, collectstatic and migrate. Ctrl-C stops all.
Production runs the same pieces under systemd (deploy/systemd/) behind nginx.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
# Where nginx keeps its pid, temporary files and access log (git-ignored).
RUNTIME = ROOT / ".serve"
# Helpers that exit are started again after this long (systemd's RestartSec).
RESTART_DELAY_S = 5


def log(message: str) -> None:
    print(f"[serve] {message}", file=sys.stderr, flush=True)


def secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    sys.path.insert(0, str(ROOT))
    from iotsite.local_secret import local_secret_key  # the same file `make run` uses

    return local_secret_key()


def environment() -> dict[str, str]:
    env = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/iotsite",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "LOG_FORMAT": "json",
        "DB_CONN_MAX_AGE": "60",
        # nginx appends the client's address to X-Forwarded-For: count that one only.
        "NUM_PROXIES": "1",
        **os.environ,
        "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "iotsite.settings",
    }
    env["SECRET_KEY"] = secret_key()
    return env


def _server_blocks(text: str) -> list[tuple[int, int]]:
    """(first, last) line numbers of each top-level `server { ... }` block."""
    blocks, depth, start = [], 0, None
    for number, line in enumerate(text.splitlines()):
        code = line.split("#", 1)[0]
        if depth == 0 and re.match(r"\s*server\s*\{", code):
            start = number
        depth += code.count("{") - code.count("}")
        if depth == 0 and start is not None:
            blocks.append((start, number))
            start = None
    return blocks


def nginx_site(conf: str, *, listen: str, http: str, ws: str, static_root: Path, access_log: Path) -> str:
    """deploy/nginx.conf for this machine: plain HTTP on `listen`, no port-80 redirect,
    the upstreams at `http` and `ws`, the static files and the access log here."""
    lines = conf.splitlines()
    dropped: set[int] = set()
    for first, last in _server_blocks(conf):
        if any(re.match(r"\s*listen\s+80\s*;", line) for line in lines[first : last + 1]):
            dropped.update(range(first, last + 1))
    rendered = []
    for number, line in enumerate(lines):
        if number in dropped:
            continue
        stripped = line.strip()
        if stripped.startswith(("ssl_certificate", "http2 ")):
            continue  # no TLS on this machine (and Debian's nginx 1.22 predates `http2 on`)
        if re.match(r"listen\s+443\b", stripped):
            line = line.replace(stripped, f"listen {listen};")
        elif stripped.startswith("access_log /"):
            line = re.sub(r"access_log\s+\S+", f"access_log {access_log}", line)
        elif stripped.startswith("alias ") and "static_build" in stripped:
            line = re.sub(r"alias\s+\S+;", f"alias {static_root}/;", line)
        line = line.replace("server 127.0.0.1:8001;", f"server {http};").replace(
            "server 127.0.0.1:8002;", f"server {ws};"
        )
        rendered.append(line)
    return "\n".join(rendered) + "\n"


def nginx_config(*, listen: str, http: str, ws: str, runtime: Path) -> str:
    """A whole nginx configuration (in the foreground, files under `runtime`) around the site."""
    site = nginx_site(
        NGINX_CONF.read_text(),
        listen=listen,
        http=http,
        ws=ws,
        static_root=ROOT / "static_build",
        access_log=runtime / "access.log",
    )
    # Started as root, nginx would run its workers as nobody, who cannot read this checkout.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {runtime / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"# Written by deploy/serve.py from deploy/nginx.conf; edit that file instead.\n"
        f"{user}daemon off;\nworker_processes 1;\npid {runtime / 'nginx.pid'};\nerror_log stderr warn;\n"
        f"events {{ worker_connections 1024; }}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n{temp}\n{site}}}\n"
    )


def nginx_executable() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise SystemExit("nginx is not installed: `make serve` installs Debian's (apt-get install nginx-light)")
    return found


def database_create_if_missing(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    if not parts.scheme.startswith("postgres"):
        return
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            log(f"creating database {name}")
            connection.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True)


def command_exists(env: dict[str, str], name: str) -> bool:
    found = subprocess.run(
        [str(BIN / "python"), "manage.py", "help", name], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return found.returncode == 0


class Supervisor:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.processes: dict[str, tuple[list[str], dict[str, str], subprocess.Popen]] = {}
        self.stopping = False
        # From the first start on: each child runs in a session of its own, so a signal
        # that killed this process during start-up would leave them running.
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)

    def start(self, name: str, command: list[str], **env: str) -> None:
        log(f"starting {name}: {' '.join(command)}")
        process = subprocess.Popen(command, cwd=ROOT, env={**self.env, **env}, start_new_session=True)
        self.processes[name] = (command, env, process)

    def stop(self, *_signal) -> None:
        self.stopping = True

    def run(self) -> None:
        restart_at: dict[str, float] = {}
        while not self.stopping:
            time.sleep(0.5)
            now = time.monotonic()
            for name, (command, env, process) in list(self.processes.items()):
                if process.poll() is None:
                    continue
                if name not in restart_at:
                    log(f"{name} exited with {process.returncode}; starting it again in {RESTART_DELAY_S} s")
                    restart_at[name] = now + RESTART_DELAY_S
                elif now >= restart_at[name]:
                    del restart_at[name]
                    self.start(name, command, **env)
        for _command, _env, process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _command, _env, process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log("stopped")


def main() -> None:
    env = environment()
    listen = env.get("SERVE_ADDRESS", "127.0.0.1:8000")
    http, ws = env.get("WEB_BIND", "127.0.0.1:8001"), env.get("WS_BIND", "127.0.0.1:8002")
    database_create_if_missing(env["DATABASE_URL"])
    manage(env, "check", "--deploy", "--fail-level", "ERROR")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "migrate", "--noinput", "-v1")

    if env.get("METRICS_ENABLED", "").lower() in {"1", "true", "yes", "on"} and not env.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every process counts into one fresh directory; /metrics adds them up.
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="iotsite-metrics-")
    supervisor = Supervisor(env)
    supervisor.start(
        "web",
        [
            str(BIN / "gunicorn"),
            "iotsite.wsgi:application",
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            http,
            "--forwarded-allow-ips",
            "127.0.0.1",
        ],
    )
    ws_host, _, ws_port = ws.rpartition(":")
    supervisor.start(
        "ws",
        [
            str(BIN / "uvicorn"),
            "iotsite.asgi:application",
            "--host",
            ws_host,
            "--port",
            ws_port,
            "--workers",
            env.get("WS_WORKERS", "1"),
            "--no-access-log",
            "--log-level",
            "warning",
            # X-Forwarded-* from nginx on this machine only, never from a client.
            "--proxy-headers",
            "--forwarded-allow-ips",
            "127.0.0.1",
            "--ws-max-size",
            env.get("WS_MAX_BYTES", "65536"),
        ],
        # ASGI runs sync code in threads: a pool, never persistent connections, which would leak one per thread.
        DB_CONN_MAX_AGE="0",
        DB_POOL_MAX_SIZE=env.get("DB_POOL_MAX_SIZE") or "4",
    )
    runtime = Path(env.get("SERVE_RUNTIME_DIR") or RUNTIME)
    runtime.mkdir(parents=True, exist_ok=True)
    (runtime / "nginx.conf").write_text(nginx_config(listen=listen, http=http, ws=ws, runtime=runtime))
    nginx = [nginx_executable(), "-c", str(runtime / "nginx.conf"), "-p", str(runtime)]
    subprocess.run([*nginx, "-t", "-q"], check=True)
    supervisor.start("nginx", nginx)
    if command_exists(env, "sendalerts"):
        supervisor.start("sendalerts", [str(BIN / "python"), "manage.py", "sendalerts"])
    if command_exists(env, "mqtt_ingest"):
        if env.get("MQTT_HOST"):
            supervisor.start("mqtt_ingest", [str(BIN / "python"), "manage.py", "mqtt_ingest"])
            if command_exists(env, "mqtt_devicecomm"):
                supervisor.start("mqtt_devicecomm", [str(BIN / "python"), "manage.py", "mqtt_devicecomm"])
        else:
            log("mqtt_ingest not started: set MQTT_HOST (and MQTT_PASSWORD) to the broker, see deploy/mosquitto/")
    if command_exists(env, "mqtt_bridge"):
        # Idle until an owner connects a Home Assistant broker (docs/protocols.md).
        supervisor.start("mqtt_bridge", [str(BIN / "python"), "manage.py", "mqtt_bridge"])
    log(f"serving http://{listen} (HTTP API, pages and /ws/); Ctrl-C stops")
    supervisor.run()


if __name__ == "__main__":
    main()
