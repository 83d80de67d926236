"""Request heads have a deadline and a size on a real uvicorn connection: idle and trickling
clients are answered 408 and cut off, oversized heads 431; normal, kept-alive, pipelined and
large-body requests are untouched."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from parvis.shield import protocol
from parvis.shield.protocol import HeadLimits
from tests.servers import free_port, serve


async def echo(request: Request) -> PlainTextResponse:
    body = await request.body()
    return PlainTextResponse(f"ok {len(body)}")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    monkeypatch.setattr(protocol, "head_limits", lambda: HeadLimits(timeout=0.5, max_bytes=2048))
    app = Starlette(routes=[Route("/", echo, methods=["GET", "POST"])])
    port = free_port()
    for _base in serve(app, port, http=protocol.PROTOCOL_PATH, log_level="error"):
        yield "127.0.0.1", port


def _read_all(sock: socket.socket, timeout: float = 3.0) -> bytes:
    sock.settimeout(timeout)
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_connection_that_sends_nothing_is_closed_with_408(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        started = time.monotonic()
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 2.5


def test_a_trickled_head_is_cut_off_at_its_deadline(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        for _ in range(10):
            time.sleep(0.2)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 3.0


def test_an_oversized_head_gets_431(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4000 + b"\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431")
    assert b"400" not in answer.split(b"\r\n", 1)[0]


def test_normal_keep_alive_pipelined_and_large_body_requests_pass(
    server: tuple[str, int],
) -> None:
    body = b"b" * 100_000  # bodies do not count against the head
    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + body
    with socket.create_connection(server) as sock:
        sock.sendall(request)
        sock.settimeout(3)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        assert first.endswith(b"ok 100000")
        time.sleep(0.8)  # longer than the head deadline, idle between requests: keep-alive
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answers = b""
        while answers.count(b"ok 0") < 2:
            answers += sock.recv(65536)
    assert answers.count(b"HTTP/1.1 200") == 2
