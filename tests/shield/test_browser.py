"""The challenge round trip in a real Chromium: the page's script solves the puzzle and the
browser lands on the page it asked for, with a pass for next time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parvis.accounts.models import Role
from parvis.runtime import Runtime
from tests.conftest import MakeUser
from tests.servers import chromium, serve
from tests.shield.conftest import MakeApp, session_cookie_for, shield_of

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def browser() -> Iterator[Any]:
    yield from chromium()


def test_challenge_round_trip_in_chromium(
    make_app: MakeApp, browser: Any, runtime: Runtime, make_user: MakeUser
) -> None:
    app = make_app(shield_challenge_bits=14)
    shield_of(app).mode.set_manual(True, "test")
    server = serve(app)
    base = next(server)
    try:
        page = browser.new_page()
        challenge = page.goto(f"{base}/public")
        assert challenge is not None
        assert challenge.status == 403
        page.wait_for_url(f"{base}/public", timeout=30_000)
        page.wait_for_selector("main h1, main .post, main article", timeout=30_000)
        assert "Checking your browser" not in page.content()
        cookies = {cookie["name"] for cookie in page.context.cookies()}
        assert "parvis_pass" in cookies
        again = page.goto(f"{base}/public")
        assert again is not None
        assert again.status == 200
        # The challenge page as a visitor without a pass sees it (for the screenshot).
        fresh = browser.new_page()
        fresh.route("**/static/shield-challenge.js", lambda route: route.abort())
        fresh.goto(f"{base}/tags/anything")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        fresh.screenshot(path=str(SCREENSHOTS / "shield-challenge.png"), full_page=True)
        # The admin page, with its charts, for the screenshot too.
        admin = browser.new_context()
        admin.add_cookies(
            [
                {
                    "name": "parvis_session",
                    "value": session_cookie_for(runtime, make_user, "ana", Role.ADMIN),
                    "url": base,
                }
            ]
        )
        admin_page = admin.new_page()
        for _ in range(3):
            admin_page.goto(f"{base}/admin/shield")
        assert "Under attack: on" in admin_page.content()
        admin_page.screenshot(path=str(SCREENSHOTS / "shield-admin.png"), full_page=True)
    finally:
        next(server, None)
