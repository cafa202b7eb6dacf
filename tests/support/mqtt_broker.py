"""A Mosquitto of our own, started from the repo's config on a spare port.

Shared by the MQTT tests and bench/mqtt.py. Only the lines that say where to listen
and where to keep files change; everything else is deploy/mosquitto/mosquitto.conf.
"""

from __future__ import annotations

import getpass
import glob
import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CONFIG = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
sys.path.insert(0, str(ROOT / "deploy" / "mosquitto"))

from dynsec_seed import dynsec_document  # noqa: E402

SERVER_USERNAME = "iotsite"
SERVER_PASSWORD = "broker-test-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dynsec_plugin() -> str:
    found = glob.glob("/usr/lib/*/mosquitto_dynamic_security.so") + glob.glob("/usr/lib/mosquitto_dynamic_security.so")
    if not found:
        raise RuntimeError("Mosquitto's dynamic security plugin is not installed (Debian package mosquitto)")
    return found[0]


def iotsite_plugin() -> str:
    """The repo's broker plugin (deploy/mosquitto/iotsite_me.c), built when missing or stale."""
    source = ROOT / "deploy" / "mosquitto" / "iotsite_me.c"
    built = source.with_suffix(".so")
    if not built.exists() or built.stat().st_mtime < source.stat().st_mtime:
        result = subprocess.run(["make", "-s", "broker-plugin"], cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"cannot build the broker plugin (Debian package mosquitto-dev?):\n{result.stderr}")
    return str(built)


def render_config(*, port: int, data_dir: Path) -> str:
    plugins = {"iotsite_me.so": iotsite_plugin(), "mosquitto_dynamic_security.so": dynsec_plugin()}
    replaced = {
        "listener": f"listener {port} 127.0.0.1",
        "plugin_opt_config_file": f"plugin_opt_config_file {data_dir / 'dynamic-security.json'}",
        "plugin_opt_devices_file": f"plugin_opt_devices_file {data_dir / 'iotsite-devices.txt'}",
        "persistence_location": f"persistence_location {data_dir}/",
    }
    lines = []
    for line in CONFIG.read_text().splitlines():
        key = line.split(" ", 1)[0]
        if key == "plugin":
            lines.append(f"plugin {plugins[Path(line.split(' ', 1)[1]).name]}")
            continue
        lines.append(replaced.get(key, line))
    # Run as root, mosquitto would drop to the `mosquitto` user, who cannot write here.
    lines.append(f"user {getpass.getuser()}")
    return "\n".join(lines) + "\n"


@dataclass
class Broker:
    host: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def restart(self) -> None:
        """Stop and start again on the same port and files, as a service restart does."""
        self.stop()
        config = self.log_path.with_name("mosquitto.conf")
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([mosquitto, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
        _wait_listening(self)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def broker_start(data_dir: Path) -> Broker:
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "dynamic-security.json").write_text(
        json.dumps(dynsec_document(username=SERVER_USERNAME, password=SERVER_PASSWORD))
    )
    config = data_dir / "mosquitto.conf"
    config.write_text(render_config(port=port, data_dir=data_dir))
    log_path = data_dir / "mosquitto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([mosquitto, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    broker = Broker("127.0.0.1", port, process, log_path)
    _wait_listening(broker)
    return broker


def _wait_listening(broker: Broker) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((broker.host, broker.port), timeout=0.5).close()
            return
        except OSError:
            if broker.process.poll() is not None or time.monotonic() > deadline:
                broker.stop()
                raise RuntimeError(f"mosquitto did not start:\n{broker.log()}") from None
            time.sleep(0.02)
