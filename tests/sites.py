"""A small web site on 127.0.0.1 for tests of the link checker: pages set per test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

Site = dict[str, tuple[str, bytes]]


@pytest.fixture
def site() -> Iterator[tuple[str, Site]]:
    """A web server on 127.0.0.1 serving the pages put in the returned dict (path ->
    (content type, body)); `/moved` redirects to `/newsletter`."""
    pages: Site = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/newsletter")
                self.end_headers()
                return
            content_type, body = pages.get(self.path, ("text/plain", b""))
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", pages
    server.shutdown()
    server.server_close()


def newsletter(base: str, pdf_path: str) -> bytes:
    """A newsletter issue linking a PDF (twice, once relative) and an unrelated page."""
    return (
        f'<html><body><p>This week: the vetting file.</p><a href="{pdf_path}">PDF</a>'
        f'<a href="/about">About</a><a href="{base}{pdf_path}">again</a></body></html>'
    ).encode()
