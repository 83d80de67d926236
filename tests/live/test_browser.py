"""In a real Chromium with a fake microphone: the host speaks, another browser listens."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from parvis.accounts import services as accounts
from parvis.accounts.models import User
from parvis.live import rooms
from parvis.runtime import Runtime
from tests.conftest import MakeUser
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"
MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


def _wait(page: Any, expression: str, timeout: float = 20.0) -> None:
    """Poll a JavaScript expression (wait_for_function would need 'unsafe-eval' in the CSP)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


@pytest.mark.usefixtures("earlier_garbage_collected")
def test_host_speaks_a_listener_receives_playable_audio_and_the_recording_plays_after(
    live_server: str, runtime: Runtime, make_user: MakeUser
) -> None:
    if not shutil.which(CHROMIUM):
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    host = make_user("hostess")
    with runtime.db.session() as session:
        me = session.get_one(User, host.id)
        room_id = rooms.schedule_room(
            session,
            me,
            title="The interview that starts on time",
            description="Live **now**.",
            recording=True,
        ).id
        cookie, _ = accounts.start_web_session(session, runtime.settings, me)
    url = f"{live_server}/live/rooms/{room_id}"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + MEDIA_ARGS
        )
        try:
            speaker_context = browser.new_context(viewport={"width": 1200, "height": 900})
            speaker_context.add_cookies(
                [{"name": "parvis_session", "value": cookie, "url": live_server + "/"}]
            )
            speaker = speaker_context.new_page()
            errors: list[str] = []
            speaker.on("pageerror", lambda exc: errors.append(str(exc)))
            speaker.goto(url)
            speaker.click("#speak")
            _wait(speaker, "window.liveStats && window.liveStats.chunksSent > 3")
            listener = browser.new_context().new_page()
            listener.on("pageerror", lambda exc: errors.append(str(exc)))
            listener.goto(url)
            listener.click("#listen")
            _wait(listener, "window.liveStats.inits >= 1 && window.liveStats.media >= 10")
            # The relayed WebM was accepted by MediaSource: audio is buffered and playing.
            _wait(
                listener,
                "(() => { const a = document.querySelector('#players audio');"
                " return !!a && a.buffered.length > 0 && a.currentTime > 0; })()",
            )
            stats: dict[str, Any] = listener.evaluate("window.liveStats")
            assert stats["appended"] >= 10
            assert "Listening." in listener.inner_text("#status")
            assert "@hostess" in speaker.inner_text("#stage")
            _wait(speaker, "document.querySelector('#count').textContent.length > 0")
            speaker.screenshot(path=str(ARTIFACTS / "live-room-host.png"), full_page=True)
            listener.screenshot(path=str(ARTIFACTS / "live-room-listener.png"), full_page=True)
            lister = speaker_context.new_page()
            lister.goto(f"{live_server}/live")
            assert "The interview that starts on time" in lister.inner_text("main")
            lister.screenshot(path=str(ARTIFACTS / "live-rooms.png"), full_page=True)
            lister.close()
            # The host ends the room: what was said is published as audio on the room page.
            speaker.click("form[action$='/end'] button")
            deadline = time.monotonic() + 20
            while "<audio controls" not in speaker.content():
                assert time.monotonic() < deadline, "the recording was not published"
                speaker.wait_for_timeout(500)
                speaker.goto(url)
            assert "Recording of the live room" in speaker.inner_text(".recordings")
            _wait(
                speaker,
                "(() => { const a = document.querySelector('.recordings audio');"
                " a.muted = true; a.play().catch(() => {});"
                " return a.readyState >= 1 && a.currentTime > 0; })()",
            )
            speaker.screenshot(path=str(ARTIFACTS / "live-room-recording.png"), full_page=True)
            speaker.goto(f"{live_server}/live/new")
            offset = speaker.evaluate("document.querySelector('input[name=tz_offset]').value")
            assert offset == str(speaker.evaluate("new Date().getTimezoneOffset()"))
            speaker.screenshot(path=str(ARTIFACTS / "live-schedule.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()


# A WebSocket the server has not taken yet (a join storm fills the kernel's accept queue): it
# neither opens nor closes until the test says so.
UNTAKEN_SOCKET = """
window.WebSocket = function () {
  var socket = this;
  window.untakenSocket = socket;
  socket.readyState = 0;
  socket.send = function () {};
  socket.close = function () {};
};
"""


def test_a_listener_is_told_while_the_room_has_not_taken_the_connection_and_if_it_fails(
    live_server: str, runtime: Runtime, make_user: MakeUser, browser: Any
) -> None:
    host = make_user("crowded")
    with runtime.db.session() as session:
        me = session.get_one(User, host.id)
        room_id = rooms.schedule_room(session, me, title="A crowded room", description="").id
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(UNTAKEN_SOCKET)
    page.goto(f"{live_server}/live/rooms/{room_id}")
    page.click("#listen")
    assert page.inner_text("#status") == "Connecting…"
    _wait(page, "document.querySelector('#status').textContent.includes('waiting for the room')")
    page.screenshot(path=str(ARTIFACTS / "live-room-connecting.png"), full_page=True)
    page.evaluate("window.untakenSocket.onclose({})")  # given up on, never opened
    assert "Could not reach the room" in page.inner_text("#status")
    assert page.is_visible("#listen")  # and it can be tried again
    assert errors == []
