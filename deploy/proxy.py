#!/usr/bin/env python
"""A tiny front proxy for `make serve`: one address, /ws/ and the devices' long-polls
to the ASGI server, the rest to the WSGI workers. Production uses nginx for this
(deploy/nginx.conf).

It reads the first request head of each connection, picks the upstream by path, and
then only copies bytes both ways: no parsing, no buffering of bodies. A connection
stays with the upstream of its first request (browsers open a fresh connection for a
WebSocket, so /ws/ never arrives on a connection that began elsewhere).

    python deploy/proxy.py --listen 127.0.0.1:8000 --http 127.0.0.1:8001 --ws 127.0.0.1:8002
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re

MAX_HEAD_BYTES = 64 * 1024
WS_PREFIX = b"/ws/"
# Devices waiting for commands or shared attribute changes (devicecomm/longpoll.py): async
# views that would hold a WSGI worker for the whole wait.
LONG_POLL = re.compile(
    rb"^/api/(device/commands/|device/attributes/updates/|v1/[^/?]+/rpc|v1/[^/?]+/attributes/updates)(\?|$)"
)


def is_asgi_path(path: bytes) -> bool:
    return path.startswith(WS_PREFIX) or LONG_POLL.match(path) is not None


_UNAVAILABLE = b'{"detail": "The upstream server is unavailable."}'
BAD_GATEWAY = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_UNAVAILABLE), _UNAVAILABLE)
)


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def handle(client_reader, client_writer, *, http: tuple[str, int], ws: tuple[str, int]) -> None:
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        client_writer.close()
        return
    parts = head.split(b" ", 2)
    path = parts[1] if len(parts) > 1 else b"/"
    upstream = ws if is_asgi_path(path) else http
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(*upstream)
    except OSError:
        client_writer.write(BAD_GATEWAY)
        with contextlib.suppress(Exception):
            await client_writer.drain()
        client_writer.close()
        return
    upstream_writer.write(head)
    await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))


async def serve(listen: tuple[str, int], http: tuple[str, int], ws: tuple[str, int]) -> None:
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, http=http, ws=ws), *listen, limit=MAX_HEAD_BYTES, backlog=1024
    )
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", default="127.0.0.1:8000")
    parser.add_argument("--http", default="127.0.0.1:8001")
    parser.add_argument("--ws", default="127.0.0.1:8002")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host_port(args.listen), host_port(args.http), host_port(args.ws)))


if __name__ == "__main__":
    main()
