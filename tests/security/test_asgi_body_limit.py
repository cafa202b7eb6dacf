"""Under ASGI an oversized body is refused before it is read: by its Content-Length at
once, and a chunked one as soon as it passes the limit. The real ASGI application is
driven message by message; a real uvicorn answers a raw socket the same way."""

from __future__ import annotations

import asyncio
import socket
import subprocess

import pytest

from iotsite.asgi import application
from tests.support.live import in_own_thread
from tests.support.live_servers import BASE_DIR, UVICORN, free_port, server_env, wait_until_serving

LIMIT = 1000


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    settings.MAX_UPLOAD_BYTES = LIMIT


def http_scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/auth/register/",
        "raw_path": b"/api/auth/register/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


async def drive(scope: dict, chunks: list[bytes]) -> tuple[int, int]:
    """(status, chunks the application read) for a body sent as these chunks; a client
    that never finishes (the last chunk says more_body) waits forever for a reader."""
    read = 0
    sent: list[dict] = []

    async def receive():
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": True}
        await asyncio.sleep(3600)  # the body never ends

    async def send(message):
        sent.append(message)

    await asyncio.wait_for(application(scope, receive, send), timeout=10)
    return sent[0]["status"], read


def run(coroutine):
    # A thread of its own: the browser tests' Playwright may hold this thread's loop.
    return in_own_thread(asyncio.run, coroutine)


def test_a_declared_length_past_the_limit_is_refused_without_reading_the_body(small_limit):
    status, read = run(drive(http_scope([(b"content-length", b"1000000000")]), [b"x" * 100] * 10))
    assert (status, read) == (413, 0)


def test_a_chunked_body_is_read_only_until_it_passes_the_limit(small_limit):
    status, read = run(drive(http_scope([(b"transfer-encoding", b"chunked")]), [b"x" * 400] * 100))
    assert status == 413
    assert read == 3  # 1,200 bytes: the first chunk past 1,000


def test_a_declared_length_that_is_not_a_number_is_a_400(small_limit):
    status, read = run(drive(http_scope([(b"content-length", b"lots")]), [b"{}"]))
    assert (status, read) == (400, 0)


@pytest.mark.processes  # a uvicorn of its own
def test_a_real_server_answers_an_oversized_declaration_at_once(tmp_path):
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    port = free_port()
    process = subprocess.Popen(
        [str(UVICORN), "iotsite.asgi:application", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        cwd=BASE_DIR,
        env=server_env(DATABASE_URL=database, MAX_BODY_BYTES=str(LIMIT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", process)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(
                b"POST /api/auth/register/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000000000\r\n\r\n" + b"x" * 100
            )
            answer = client.recv(4096)  # within the timeout: nobody waits for the gigabyte
        assert answer.startswith(b"HTTP/1.1 413")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(
                b"POST /api/auth/register/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + b"190\r\n" + b"x" * 400 + b"\r\n" * 1
            )
            for _ in range(3):
                client.sendall(b"190\r\n" + b"x" * 400 + b"\r\n")
            answer = client.recv(4096)  # the body is never finished: the answer comes anyway
        assert answer.startswith(b"HTTP/1.1 413")
    finally:
        process.terminate()
        process.wait(timeout=10)
