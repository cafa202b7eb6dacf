"""A Home Assistant user's broker and the bridge worker, for the bridge's tests."""

from __future__ import annotations

import datetime
import getpass
import ipaddress
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from django.db import connections

from protocols.bridge.worker import Bridge
from tests.support.mqtt_broker import free_port

USERNAME, PASSWORD = "homeassistant", "ha-broker-password"


class PasswordBroker:
    """A Mosquitto of the kind an owner runs beside Home Assistant: a password file."""

    def __init__(self, data_dir: Path, *, tls_files: tuple[Path, Path] | None = None):
        self.host, self.port = "127.0.0.1", free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        passwords = data_dir / "passwords"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), USERNAME, PASSWORD], check=True)
        passwords.chmod(0o600)
        config = data_dir / "mosquitto.conf"
        tls = f"certfile {tls_files[0]}\nkeyfile {tls_files[1]}\n" if tls_files else ""
        config.write_text(
            f"listener {self.port} 127.0.0.1\n{tls}allow_anonymous false\npassword_file {passwords}\n"
            f"persistence false\nuser {getpass.getuser()}\nlog_dest stderr\n"
        )
        self.log_path = data_dir / "mosquitto.log"
        with self.log_path.open("wb") as log:
            mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
            self.process = subprocess.Popen([mosquitto, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.log_path.read_text()) from None
                time.sleep(0.02)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=5)


class BridgeThread:
    def __init__(self):
        self.bridge = Bridge(reload_interval=0.5)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            self.bridge.run()
        except BaseException as error:
            self.error = error
        finally:
            connections.close_all()

    def stop(self):
        self.bridge.stop()
        self._thread.join(timeout=10)
        assert self.error is None, self.error


def certificate_authority(directory: Path) -> tuple[Path, Path, Path]:
    """A CA of the test's own and a server certificate for 127.0.0.1: (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iotsite test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    paths[2].chmod(0o600)
    return paths
