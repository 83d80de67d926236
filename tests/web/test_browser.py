"""End-to-end in a real Chromium: the member journey, password reset, and layout at two sizes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from parvis.accounts.models import User
from parvis.config import Settings
from parvis.runtime import Runtime
from parvis.social import graph, posts
from parvis.social.models import PostKind
from parvis.social.posts import PostDraft
from tests.conftest import PASSWORD, MakeUser, outbox_messages

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"
STRONG = "violet tractor anthem 1987 quietly"
ARTICLE_BODY = "\n\n".join(
    [
        "A square works when its rules are known before anyone speaks.",
        "## What members can expect",
        "Every restriction cites a published rule and comes with a statement of reasons. "
        "Nothing is quietly removed, and every decision can be appealed.",
        "> Rules that cannot be read cannot be followed.",
        "## What the operator promises",
        "The home feed shows the accounts you follow, newest first, and nothing else. "
        "Blocks are mutual and total.",
    ]
)


def _mail_link(settings: Settings, server: str, path: str) -> str:
    match = re.search(rf"http://testserver({path}\?token=[\w-]+)", outbox_messages(settings)[-1])
    assert match, "no link in the outbox"
    return server + match.group(1)


def _seed_big_account(runtime: Runtime, make_user: MakeUser) -> int:
    big = make_user("bigvoice")
    with runtime.db.session() as session:
        me = session.get_one(User, big.id)
        post = posts.create_post(
            session, runtime.settings, me, PostDraft(body="Big voice says hello")
        )
        return post.id


def test_member_journey_sign_up_to_block(
    browser: Any, live_server: str, runtime: Runtime, make_user: MakeUser
) -> None:
    big_post = _seed_big_account(runtime, make_user)
    page = browser.new_page()
    page.goto(f"{live_server}/signup")
    page.fill("#username", "newcomer")
    page.fill("#email", "newcomer@example.org")
    page.fill("#password", STRONG)
    page.click("button[type=submit] >> text=Create account")
    page.wait_for_selector("text=Check your e-mail")
    page.goto(_mail_link(runtime.settings, live_server, "/verify-email"))
    page.wait_for_selector("text=Address confirmed")
    page.goto(f"{live_server}/")
    page.fill("#body", "My first post on the square")
    page.click(".composer button[type=submit]")
    page.wait_for_selector("text=My first post on the square")
    page.goto(f"{live_server}/@bigvoice/{big_post}")
    page.fill("#body", "Replying to the big voice")
    page.click(".composer button[type=submit]")
    page.wait_for_selector("text=Replying to the big voice")
    page.goto(f"{live_server}/compose?quote={big_post}")
    page.fill("#body", "Quoting this")
    page.click(".composer button[type=submit]")
    page.wait_for_selector("blockquote.quote >> text=Big voice says hello")
    page.goto(f"{live_server}/@bigvoice/{big_post}")
    page.click(f"#actions-{big_post} button[aria-label='Vote up']")  # htmx swaps the bar in place
    page.wait_for_selector(f"#actions-{big_post} button.vote.on")
    assert "▲ 1" in page.inner_text(f"#actions-{big_post}")
    page.goto(f"{live_server}/@bigvoice")
    page.click("button:has-text('Follow')")
    page.goto(f"{live_server}/")
    assert "Big voice says hello" in page.content()
    page.goto(f"{live_server}/@bigvoice")
    page.click("button:has-text('Block')")
    page.wait_for_selector("text=You blocked @bigvoice")
    for path in ("/", "/public", "/search?q=voice"):
        page.goto(f"{live_server}{path}")
        assert "Big voice says hello" not in page.content(), path


def test_password_reset_from_the_outbox(
    browser: Any, live_server: str, runtime: Runtime, make_user: MakeUser
) -> None:
    make_user("forgetful")
    page = browser.new_page()
    page.goto(f"{live_server}/login")
    page.click("text=Forgot your password?")
    page.fill("#email", "forgetful@example.org")
    page.click("button[type=submit] >> text=Send me a link")
    page.wait_for_selector("text=Check your e-mail")
    page.goto(_mail_link(runtime.settings, live_server, "/reset-password"))
    page.fill("#password", STRONG)
    page.click("button[type=submit] >> text=Save password")
    page.wait_for_selector("text=Password changed")
    page.goto(f"{live_server}/login")
    page.fill("#username", "forgetful")
    page.fill("#password", STRONG)
    page.click("form.stacked button[type=submit]")
    page.wait_for_selector("text=Log out")
    assert PASSWORD != STRONG


@pytest.mark.parametrize(
    ("label", "width", "height"), [("desktop", 1280, 800), ("phone", 375, 812)]
)
def test_main_pages_fit_the_screen(
    browser: Any,
    live_server: str,
    runtime: Runtime,
    make_user: MakeUser,
    label: str,
    width: int,
    height: int,
) -> None:
    big_post = _seed_big_account(runtime, make_user)
    reader = make_user("reader_with_a_rather_long_name")
    with runtime.db.session() as session:
        me = session.get_one(User, reader.id)
        graph.follow(session, me, session.get_one(User, 1))
        long_word = "https://example.org/" + "very-long-path-segment-" * 8
        posts.create_post(
            session,
            runtime.settings,
            me,
            PostDraft(body=f"Reply with {long_word}", in_reply_to_id=big_post),
        )
        article = posts.create_post(
            session,
            runtime.settings,
            me,
            PostDraft(
                title="A title for an article",
                body=ARTICLE_BODY,
                kind=PostKind.ARTICLE,
            ),
        )
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#username", "reader_with_a_rather_long_name")
    page.fill("#password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_selector("text=Log out")
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {
        "home": "/",
        "thread": f"/@bigvoice/{big_post}",
        "profile": "/@reader_with_a_rather_long_name",
        "article": f"/@reader_with_a_rather_long_name/{article.id}",
        "settings": "/settings/profile",
    }
    for name, path in pages.items():
        page.goto(f"{live_server}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        assert page.locator("main h1, main article").count() > 0
    context.close()
