"""The link checker: reads the pages posts link (and the PDFs those pages link, one level
down), records what it found, and screens again the posts that lead there.

It runs in the background of the server (a task started with the app) and as
`parvis links check`. Nothing is fetched from private, loopback or link-local addresses unless
`link_check_allow_private` is set, so members cannot make the server probe its own network.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import logging
import socket
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parvis.accounts.services import Services
from parvis.config import Settings
from parvis.moderation import documents
from parvis.moderation.enforcement import normalise_url
from parvis.moderation.models import FetchState, LinkFetch
from parvis.social.models import Post, PostLink
from parvis.storage.base import utcnow
from parvis.storage.database import Database

log = logging.getLogger("parvis.linkcheck")
MAX_DOCUMENTS_PER_PAGE = 20
MAX_PAGE_BYTES = 2 * 1024 * 1024
USER_AGENT = "Parvis-LinkCheck/1 (+moderation; reads linked pages and documents)"


class _DocumentLinks(HTMLParser):
    """Collects `href`s of a page that look like PDF documents."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        for name, value in attrs:
            if name == "href" and value and urlsplit(value).path.lower().endswith(".pdf"):
                self.hrefs.append(value)


def document_links(page_url: str, html: str) -> list[str]:
    """Absolute, normalised addresses of the PDFs a page links (first ones, no repeats)."""
    parser = _DocumentLinks()
    parser.feed(html)
    seen: list[str] = []
    for href in parser.hrefs:
        url = normalise_url(urljoin(page_url, href))
        if url.startswith(("http://", "https://")) and url not in seen:
            seen.append(url)
    return seen[:MAX_DOCUMENTS_PER_PAGE]


class Refused(Exception):
    """The address may not be fetched (private network, bad scheme, too large...)."""


async def _check_address(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("only http and https addresses are read")
    if allow_private:
        return
    try:
        # The loop's resolver runs in a thread: a slow DNS answer must not stall the server.
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise Refused(f"the host name does not resolve ({exc.strerror or exc})") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise Refused(f"{parts.hostname} resolves to a non-public address ({address})")


@dataclass(frozen=True)
class Fetched:
    """What one fetch returned."""

    status_code: int
    content_type: str
    body: bytes


async def _fetch(client: httpx.AsyncClient, settings: Settings, url: str) -> Fetched:
    # Redirects are followed by hand so every hop passes the address check.
    for _ in range(4):
        await _check_address(url, settings.link_check_allow_private)
        async with client.stream("GET", url) as response:
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
            limit = (
                settings.link_check_max_bytes
                if content_type == "application/pdf"
                else MAX_PAGE_BYTES
            )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise Refused(f"larger than {limit} bytes")
                chunks.append(chunk)
            return Fetched(response.status_code, content_type, b"".join(chunks))
    raise Refused("too many redirects")


def _add_pending(session: Session, url: str, depth: int) -> None:
    if session.scalar(select(LinkFetch.id).where(LinkFetch.url == url)) is not None:
        return
    try:
        with session.begin_nested():
            session.add(LinkFetch(url=url, depth=depth))
    except IntegrityError:
        pass  # another worker queued it first


def _record(
    session: Session, settings: Settings, fetch: LinkFetch, result: Fetched | Exception
) -> None:
    fetch.attempts += 1
    fetch.fetched_at = utcnow()
    if isinstance(result, Exception):
        fetch.error = str(result)[:1000] or type(result).__name__
        if isinstance(result, Refused):
            fetch.state = FetchState.REFUSED.value
        elif fetch.attempts >= settings.link_check_max_attempts:
            fetch.state = FetchState.FAILED.value
        return
    fetch.status_code = result.status_code
    fetch.content_type = result.content_type[:128]
    if result.status_code >= 400:
        fetch.state = FetchState.FAILED.value
        fetch.error = f"HTTP {result.status_code}"
        return
    fetch.state = FetchState.DONE.value
    fetch.error = ""
    if result.content_type == "application/pdf" or result.body.startswith(b"%PDF-"):
        sha256 = hashlib.sha256(result.body).hexdigest()
        documents.record(session, sha256, result.body)
        fetch.sha256 = sha256
    elif "html" in result.content_type and fetch.depth == 0:
        found = document_links(fetch.url, result.body.decode("utf-8", "replace"))
        fetch.document_urls = json.dumps(found)
        for url in found:
            _add_pending(session, url, depth=1)


def posts_leading_to(session: Session, url: str) -> list[Post]:
    """Posts that link `url`, or link a page that links it."""
    pages = [url]
    # Pages listing the document: their JSON lists are matched as text first (indexable by the
    # database's LIKE on small tables) and then checked exactly.
    for page_url, listed in session.execute(
        select(LinkFetch.url, LinkFetch.document_urls).where(
            LinkFetch.depth == 0, LinkFetch.document_urls.contains(json.dumps(url)[1:-1])
        )
    ):
        if url in json.loads(listed):
            pages.append(page_url)
    ids = set(session.scalars(select(PostLink.post_id).where(PostLink.normal_url.in_(pages))))
    return list(session.scalars(select(Post).where(Post.id.in_(ids), Post.deleted_at.is_(None))))


async def check_pending(db: Database, services: Services, limit: int = 20) -> int:
    """Fetch up to `limit` queued addresses, record what they hold and screen again the posts
    that lead to each document found; returns how many addresses were handled."""
    from parvis.moderation.screening import screen_post  # screening queues links through here

    settings = services.settings

    def pending() -> list[tuple[int, str]]:
        with db.session() as session:
            return [
                (row.id, row.url)
                for row in session.scalars(
                    select(LinkFetch)
                    .where(LinkFetch.state == FetchState.PENDING.value)
                    .order_by(LinkFetch.depth, LinkFetch.id)
                    .limit(limit)
                )
            ]

    def store(fetch_id: int, result: Fetched | Exception) -> None:
        # The document is read and the posts screened in one transaction, so a crash leaves
        # the address queued rather than half recorded.
        with db.session() as session:
            fetch = session.get(LinkFetch, fetch_id)
            if fetch is None or fetch.state != FetchState.PENDING.value:
                return
            _record(session, settings, fetch, result)
            if fetch.sha256:
                for post in posts_leading_to(session, fetch.url):
                    screen_post(session, services, post, new=False)

    # Database work (PDF text extraction and screening included) runs in a worker thread, so
    # the server's event loop keeps answering requests meanwhile.
    queued = await asyncio.to_thread(pending)
    if not queued:
        return 0
    timeout = httpx.Timeout(settings.link_check_timeout_seconds)
    async with httpx.AsyncClient(
        timeout=timeout, headers={"user-agent": USER_AGENT}, follow_redirects=False
    ) as client:
        for fetch_id, url in queued:
            result: Fetched | Exception
            try:
                result = await _fetch(client, settings, url)
            except (httpx.HTTPError, Refused, OSError) as exc:
                result = exc
            await asyncio.to_thread(store, fetch_id, result)
    return len(queued)
