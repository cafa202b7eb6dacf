"""The bytes an ESP8266 sketch of the ThingSpeak tutorials writes to its socket, bare
newlines included, against the running server."""

import socket
from urllib.parse import urlsplit

import pytest

from tests.telemetry.helpers import stored

pytestmark = pytest.mark.django_db(transaction=True)


def send_raw(live_server, request: bytes) -> bytes:
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_the_tutorials_post_with_the_key_header(live_server, device, device_token):
    post_str = "field1=23.40&field2=51.00"
    request = (
        "POST /update HTTP/1.1\n"
        "Host: 127.0.0.1\n"
        "Connection: close\n"
        f"X-THINGSPEAKAPIKEY: {device_token}\n"
        "Content-Type: application/x-www-form-urlencoded\n"
        f"Content-Length: {len(post_str)}\n\n{post_str}"
    ).encode()

    answer = send_raw(live_server, request)

    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"\r\n\r\n1")
    assert sorted((key, value) for key, _, value in stored(device)) == [("field1", 23.4), ("field2", 51.0)]


def test_the_tutorials_get(live_server, device, device_token):
    request = f"GET /update?api_key={device_token}&field1=7 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert send_raw(live_server, request.encode()).endswith(b"\r\n\r\n1")
    assert [value for _, _, value in stored(device)] == [7.0]
