"""`make serve`'s front proxy sends the devices' long-polls to the ASGI server, where a
waiting device holds no worker, and the rest of the device API to the WSGI workers."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))

from proxy import is_asgi_path

TOKEN = "iotd_" + "a" * 43


@pytest.mark.parametrize(
    "path",
    [
        "/ws/live/",
        "/api/device/commands/?timeout=20",
        "/api/device/commands/",
        "/api/device/attributes/updates/?timeout=5",
        f"/api/v1/{TOKEN}/rpc?timeout=20000",
        f"/api/v1/{TOKEN}/rpc",
        f"/api/v1/{TOKEN}/attributes/updates?timeout=20000",
    ],
)
def test_long_polls_and_sockets_go_to_asgi(path):
    assert is_asgi_path(path.encode())


@pytest.mark.parametrize(
    "path",
    [
        "/api/device/commands/12/",
        "/api/device/attributes/",
        f"/api/v1/{TOKEN}/rpc/12",
        f"/api/v1/{TOKEN}/attributes?sharedKeys=a",
        f"/api/v1/{TOKEN}/telemetry",
        "/api/devices/3/commands/",
        "/",
    ],
)
def test_the_rest_goes_to_wsgi(path):
    assert not is_asgi_path(path.encode())
