"""The proof-of-work challenge for anonymous page views while the instance is "under attack".

A browser gets a small page whose script (`/static/shield-challenge.js`, no CDN) searches a
nonce such that SHA-256(puzzle ":" nonce) starts with `bits` zero bits, then calls
`/_shield/verify`; the server checks the signed puzzle (HMAC-SHA256: not forged, not
expired after five minutes, issued to this client's network) and the hash, and sets a signed pass
cookie bound to the same network for `shield_challenge_pass_hours`. A flood client either pays
a fraction of a second of CPU per pass, or gets only the cheap challenge page. Members signed
in and API tokens are never challenged, and neither are the pages needed to sign in.

The switch is manual (an admin's, kept in `<data_dir>/shield/under_attack.json` so it survives
restarts and every worker sees it) or automatic (sustained shedding, per process, for
`shield_auto_minutes`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import cookie_parser

from parvis.config import Settings

PASS_COOKIE = "parvis_pass"  # noqa: S105 - a cookie name, not a secret
PUZZLE_SECONDS = 300
AUTO_WINDOW_SECONDS = 10.0
VERIFY_PATH = "/_shield/verify"
# Pages reachable without solving: signing in (members are never challenged), the consent page
# of API clients, and the shield's own endpoints.
NEVER_CHALLENGED = (
    "/login",
    "/signup",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
    "/oauth/",
    "/_shield/",
    "/api/",
    "/.well-known/",
    "/nodeinfo/",
)


def leading_zero_bits(digest: bytes) -> int:
    """How many zero bits a digest starts with."""
    count = 0
    for byte in digest:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


class Puzzles:
    """Issues and checks signed puzzles and the pass cookies they earn.

    Signed with HMAC-SHA256 under keys derived once from the instance secret (itsdangerous
    derives its key on every call: ten times the cost, and a flood pays it per request).
    """

    def __init__(self, settings: Settings) -> None:
        secret = settings.secret().encode()
        self.bits = settings.shield_challenge_bits
        self.pass_seconds = int(settings.shield_challenge_pass_hours * 3600)
        self._puzzle_key = hmac.new(secret, b"parvis.shield.puzzle", hashlib.sha256).digest()
        self._pass_key = hmac.new(secret, b"parvis.shield.pass", hashlib.sha256).digest()

    def issue(self, network: str) -> str:
        """A fresh puzzle for a client network: `bits.expires.seed.signature`."""
        body = f"{self.bits}.{int(time.time()) + PUZZLE_SECONDS}.{secrets.token_hex(8)}"
        return f"{body}.{_sign(self._puzzle_key, body, network)}"

    def solve_ok(self, puzzle: str, nonce: str, network: str) -> bool:
        """True when the puzzle is ours, fresh, for this network, and the nonce solves it."""
        if len(nonce) > 32 or len(puzzle) > 200 or puzzle.count(".") != 3:
            return False
        body, signature = puzzle.rsplit(".", 1)
        if not hmac.compare_digest(signature, _sign(self._puzzle_key, body, network)):
            return False
        bits, expires, _seed = body.split(".")
        if not (bits.isdigit() and expires.isdigit()) or int(expires) < time.time():
            return False
        digest = hashlib.sha256(f"{puzzle}:{nonce}".encode()).digest()
        return leading_zero_bits(digest) >= int(bits)

    def new_pass(self, network: str) -> str:
        """The cookie value that lets this network's browser through for a while."""
        expires = str(int(time.time()) + self.pass_seconds)
        return f"{expires}.{_sign(self._pass_key, expires, network)}"

    def has_pass(self, cookie_header: str | None, network: str) -> bool:
        """True when a request's Cookie header holds a valid pass for its network."""
        if not cookie_header or PASS_COOKIE not in cookie_header:
            return False
        value = cookie_parser(cookie_header).get(PASS_COOKIE)
        return value is not None and self.pass_ok(value, network)

    def pass_ok(self, value: str, network: str) -> bool:
        """True when a pass cookie is ours, unexpired and for this network."""
        expires, _, signature = value.partition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(signature, _sign(self._pass_key, expires, network))


def _sign(key: bytes, body: str, network: str) -> str:
    return hmac.new(key, f"{body}|{network}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ModeStatus:
    """What the admin page shows about the switch."""

    manual: bool
    automatic_until: float
    changed_by: str
    changed_at: str

    @property
    def active(self) -> bool:
        """True when challenges are on, for either reason."""
        return self.manual or self.automatic_until > time.time()


class AttackMode:
    """The under-attack switch: the admin's (a file, re-read at most once a second) or
    automatic after sustained shedding (this process)."""

    def __init__(self, settings: Settings) -> None:
        self.path = Path(settings.data_dir) / "shield" / "under_attack.json"
        self.auto_enabled = settings.shield_auto_challenge
        self.auto_sheds = settings.shield_auto_sheds
        self.auto_seconds = settings.shield_auto_minutes * 60
        self._manual: dict[str, Any] = {}
        self._checked = 0.0
        self._mtime = -1.0
        self._auto_until = 0.0
        self._sheds: deque[float] = deque()

    def _read(self) -> dict[str, Any]:
        now = time.monotonic()
        if now - self._checked < 1.0:
            return self._manual
        self._checked = now
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._manual, self._mtime = {}, -1.0
            return self._manual
        if mtime != self._mtime:
            try:
                loaded = json.loads(self.path.read_text())
                self._manual = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self._manual = {}
            self._mtime = mtime
        return self._manual

    @property
    def active(self) -> bool:
        """True while anonymous page views are challenged."""
        return self._auto_until > time.time() or bool(self._read().get("on"))

    def status(self) -> ModeStatus:
        """The switch's state for the admin page."""
        self._checked = 0.0
        manual = self._read()
        return ModeStatus(
            manual=bool(manual.get("on")),
            automatic_until=self._auto_until,
            changed_by=str(manual.get("by", "")),
            changed_at=str(manual.get("at", "")),
        )

    def set_manual(self, on: bool, by: str) -> None:
        """Switch challenges on or off for every worker (written atomically)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"on": on, "by": by, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record))
        os.replace(temporary, self.path)
        if not on:
            self._auto_until = 0.0
        self._checked = 0.0

    def note_shed(self) -> None:
        """Count one shed request; enough within ten seconds turns challenges on for a while."""
        if not self.auto_enabled:
            return
        now = time.monotonic()
        self._sheds.append(now)
        while self._sheds and self._sheds[0] < now - AUTO_WINDOW_SECONDS:
            self._sheds.popleft()
        if len(self._sheds) >= self.auto_sheds:
            self._auto_until = time.time() + self.auto_seconds
            self._sheds.clear()


def wants_challenge(method: str, path: str) -> bool:
    """True for the page views a challenge can protect (browser navigations, not the API)."""
    return method in ("GET", "HEAD") and not path.startswith(NEVER_CHALLENGED)
