"""The link checker reads the page a post links and the PDFs that page links, so a document
reached by a link is screened like an attachment; it never reads private addresses unless
allowed, and stops at size limits."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from parvis.accounts.models import Role, User
from parvis.cli import app as cli
from parvis.config import Settings
from parvis.moderation import lists
from parvis.moderation.linkcheck import check_pending, document_links
from parvis.moderation.models import Decision, FetchState, LinkFetch
from parvis.runtime import Runtime
from parvis.social.models import Notification
from tests.conftest import MakeUser
from tests.moderation.conftest import post_screened as _post
from tests.pdfs import dossier
from tests.sites import Site, newsletter


@pytest.fixture
def checking(runtime: Runtime) -> Runtime:
    """The test runtime with the link checker on and loopback allowed (the test site)."""
    settings: Settings = runtime.settings.model_copy(
        update={"link_check_enabled": True, "link_check_allow_private": True}
    )
    runtime.settings = settings
    return runtime


def _run(runtime: Runtime) -> int:
    handled, total = -1, 0
    while handled:
        handled = asyncio.run(check_pending(runtime.db, runtime.services))
        total += handled
    return total


def test_document_links_are_absolute_pdf_addresses_without_repeats() -> None:
    html = '<a href="/a.pdf">x</a><a href="b.PDF?x=1">y</a><a href="/page">z</a><a href="/a.pdf">'
    assert document_links("https://news.example/issues/1", html) == [
        "https://news.example/a.pdf",
        "https://news.example/issues/b.PDF?x=1",
    ]


def test_doxxing_in_a_pdf_linked_from_a_linked_page_removes_the_post(
    checking: Runtime, make_user: MakeUser, site: tuple[str, Site]
) -> None:
    base, pages = site
    pages["/newsletter"] = ("text/html", newsletter(base, "/files/dossier.pdf"))
    pages["/files/dossier.pdf"] = ("application/pdf", dossier())
    author = make_user("journalist")
    post_id = _post(checking, author, f"My newsletter on the vetting file {base}/moved")
    assert _run(checking) == 2
    with checking.db.session() as session:
        fetches = {f.url: f for f in session.scalars(select(LinkFetch))}
        assert fetches[f"{base}/moved"].state == FetchState.DONE.value
        assert fetches[f"{base}/files/dossier.pdf"].sha256
        (decision,) = session.scalars(
            select(Decision).where(Decision.subject_key == str(post_id))
        ).all()
        assert (decision.rule_id, decision.action) == ("doxxing", "remove")
        assert f"{base}/files/dossier.pdf" in decision.facts


def test_listing_a_pdf_address_reaches_posts_that_link_the_page_around_it(
    checking: Runtime, make_user: MakeUser, site: tuple[str, Site]
) -> None:
    base, pages = site
    partial = dossier().replace(b"536-90-4399", b"***-**-4399")
    pages["/newsletter"] = ("text/html", newsletter(base, "/files/dossier.pdf"))
    pages["/files/dossier.pdf"] = ("application/pdf", partial)
    author, moderator = make_user("journalist"), make_user("mod", role=Role.MODERATOR)
    post_id = _post(checking, author, f"My newsletter {base}/newsletter")
    _run(checking)
    with checking.db.session() as session:
        assert session.scalars(select(Decision)).all() == []  # a partial SSN is not doxxing
        _entry, proposals = lists.add_entry(
            session,
            session.get_one(User, moderator.id),
            kind="url",
            value=f"{base}/files/dossier.pdf",
            rule_id="hacked-materials",
        )
        assert {(p.subject_type, p.action) for p in proposals} == {
            ("url", "block_url"),
            ("post", "interstitial"),
        }
        assert [p.subject_key for p in proposals if p.subject_type == "post"] == [str(post_id)]


def test_private_addresses_are_refused_unless_allowed(
    runtime: Runtime, make_user: MakeUser, site: tuple[str, Site]
) -> None:
    base, pages = site
    pages["/newsletter"] = ("text/html", b"<p>hi</p>")
    runtime.settings = runtime.settings.model_copy(update={"link_check_enabled": True})
    _post(runtime, make_user("someone"), f"see {base}/newsletter")
    _run(runtime)
    with runtime.db.session() as session:
        fetch = session.scalars(select(LinkFetch)).one()
        assert fetch.state == FetchState.REFUSED.value
        assert "non-public address" in fetch.error


def test_oversized_documents_and_missing_pages_are_recorded_not_read(
    checking: Runtime, make_user: MakeUser, site: tuple[str, Site]
) -> None:
    base, pages = site
    checking.settings = checking.settings.model_copy(update={"link_check_max_bytes": 2048})
    pages["/big.pdf"] = ("application/pdf", b"%PDF-1.7\n" + b"0" * 4096)
    _post(checking, make_user("someone"), f"{base}/big.pdf and {base}/gone")
    _run(checking)
    with checking.db.session() as session:
        fetches = {f.url.rsplit("/", 1)[1]: f for f in session.scalars(select(LinkFetch))}
        assert fetches["big.pdf"].state == FetchState.REFUSED.value
        assert "larger than 2048 bytes" in fetches["big.pdf"].error
        assert (fetches["gone"].state, fetches["gone"].error) == ("failed", "HTTP 404")


def test_the_links_command_tells_the_members_whose_posts_it_restricted(
    checking: Runtime,
    settings: Settings,
    make_user: MakeUser,
    site: tuple[str, Site],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Screening's statements are told after commit by the server's loop; the command, which
    # may run with no server, tells them itself before it exits.
    base, pages = site
    pages["/newsletter"] = ("text/html", newsletter(base, "/files/dossier.pdf"))
    pages["/files/dossier.pdf"] = ("application/pdf", dossier())
    author = make_user("journalist")
    _post(checking, author, f"My newsletter on the vetting file {base}/newsletter")
    monkeypatch.setenv("PARVIS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARVIS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARVIS_SECRET_KEY", "test-secret-key-not-for-production")
    monkeypatch.setenv("PARVIS_LINK_CHECK_ALLOW_PRIVATE", "true")
    done = CliRunner().invoke(cli, ["links", "check"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "checked 2 address(es); 1 member(s) told"
    with checking.db.session(read_only=True) as session:
        told = session.scalars(
            select(Notification.decision_id).where(Notification.user_id == author.id)
        ).all()
        pending = session.scalars(select(Decision.id).where(Decision.statement_pending)).all()
    assert len(told) == 1
    assert pending == []
