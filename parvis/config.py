"""Settings: the one place Parvis reads its configuration.

Values come from `PARVIS_*` environment variables, then from an optional env-style file named by
`PARVIS_CONFIG_FILE`, then from the defaults below. Everything else receives a `Settings`
object; nothing else reads the environment.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every tunable of a Parvis instance, with its default."""

    model_config = SettingsConfigDict(env_prefix="PARVIS_", extra="ignore")

    # Where the SQLite database, uploads, outbox e-mails and generated keys live.
    data_dir: Path = Path("var")
    # SQLAlchemy URL; empty means SQLite at <data_dir>/parvis.db. PostgreSQL example:
    # postgresql+psycopg://user@127.0.0.1:5432/parvis
    database_url: str = ""
    # Redis URL for shared counters, fan-out and jobs (used by the scale-out path).
    redis_url: str = ""
    # Public URL of the instance, used in links inside e-mails and API responses.
    base_url: str = "http://127.0.0.1:8000"
    # Signs cookies and tokens. Generated and kept in <data_dir>/secret_key when empty.
    secret_key: SecretStr = SecretStr("")
    # Shown in the page header, the instance API and e-mails.
    instance_name: str = "Parvis"
    instance_description: str = "A public square with known rules."
    # Where this instance's source code can be read (the instance API's `source_url`): the
    # Parvis release it runs, with the operator's changes if any. Empty: not published.
    instance_source_url: str = ""
    # Contact address published in the instance API and used as the sender of e-mails.
    contact_email: str = "admin@parvis.invalid"
    # Whether anyone may sign up; when false only operators create accounts.
    registrations_open: bool = True

    # E-mail: when smtp_host is empty, messages are written as .eml files in <data_dir>/outbox.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True

    # Limits on what members send.
    max_post_chars: int = Field(default=5000, ge=1)
    max_article_chars: int = Field(default=100_000, ge=1)
    max_image_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_document_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(default=40_000_000, ge=1)
    # Largest request body accepted on routes that take no file.
    max_form_bytes: int = Field(default=256 * 1024, ge=1024)
    max_attachments_per_post: int = Field(default=4, ge=0)

    # Accounts.
    min_password_score: int = Field(default=3, ge=0, le=4)  # zxcvbn score 0..4
    session_days: int = Field(default=30, ge=1)
    verification_hours: int = Field(default=48, ge=1)
    password_reset_minutes: int = Field(default=60, ge=1)
    # argon2id cost; the defaults follow RFC 9106's second recommended option.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    # Login attempts allowed per client address and per account in login_window_seconds.
    login_attempts_per_address: int = Field(default=20, ge=1)
    login_attempts_per_account: int = Field(default=10, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)

    # Link checker (moderation): reads pages that posts link and the PDFs those pages link,
    # so documents reached by a link go through the same detectors and lists as attachments.
    link_check_enabled: bool = True
    link_check_interval_seconds: float = Field(default=5.0, gt=0)
    link_check_timeout_seconds: float = Field(default=10.0, gt=0)
    link_check_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    link_check_max_attempts: int = Field(default=3, ge=1)
    # Private, loopback and link-local addresses are never fetched unless this is set (SSRF).
    link_check_allow_private: bool = False

    # Provable log (parvis.audit): the Ed25519 key that signs tree heads, as PEM or base64 of
    # its 32-byte seed; when empty, one is generated on first use into audit_key_file
    # (default <data_dir>/audit_signing_key.pem).
    audit_signing_key: SecretStr = SecretStr("")
    audit_key_file: str = ""

    # DSA Transparency Database submission (parvis.transparency.submit, `parvis reasons submit`):
    # the API base URL (e.g. https://transparency.dsa.ec.europa.eu; empty = not configured),
    # the platform's bearer token, and how hard to retry 429/5xx answers (exponential backoff).
    dsa_api_url: str = ""
    dsa_api_token: SecretStr = SecretStr("")
    dsa_api_max_attempts: int = Field(default=5, ge=1, le=20)
    dsa_api_backoff_seconds: float = Field(default=2.0, ge=0)
    dsa_api_timeout_seconds: float = Field(default=30.0, gt=0)

    # Live rooms (parvis.live): joins let in per second per process from the waiting line
    # (and the burst allowed at once), a ceiling lowered while the event loop runs later than
    # live_admission_lag_ms (0: never lowered); how often the relay flushes a room's audio to its
    # listeners (stretched in big rooms to stay under live_max_writes_per_second socket writes
    # per process); how far a listener may fall behind (bytes buffered, or messages on servers
    # other than uvicorn) before frames are dropped for them, and how long a stalled listener is
    # kept; writing frames straight to uvicorn's transports (much cheaper than ASGI sends), and
    # from a writer thread that releases the GIL per batch of listeners (parvis.live.writer);
    # the Redis key/channel prefix for fan-out across processes (used when redis_url is set).
    live_admissions_per_second: float = Field(default=2000.0, gt=0)
    live_admission_burst: int = Field(default=100, ge=1)
    live_admission_lag_ms: int = Field(default=10, ge=0, le=1000)
    live_flush_ms: int = Field(default=40, ge=1, le=1000)
    live_max_writes_per_second: float = Field(default=100_000.0, gt=0)
    live_listener_buffer_bytes: int = Field(default=65536, ge=4096)
    live_listener_queue: int = Field(default=50, ge=2)
    live_stall_seconds: float = Field(default=15.0, gt=0)
    live_direct_writes: bool = True
    live_writer_thread: bool = True
    live_redis_prefix: str = "parvis:"
    live_reminder_interval_seconds: float = Field(default=30.0, gt=0)

    # Shield (parvis.shield): rate limits, overload shedding, slow clients, challenge, metrics.
    # Off switch for the whole shield (body-size limits stay on: they are not optional).
    shield_enabled: bool = True
    # Peers whose X-Forwarded-For / Forwarded headers are believed, comma-separated addresses
    # or networks (e.g. "127.0.0.1, 10.0.0.0/8"); from anyone else those headers are ignored.
    shield_trusted_proxies: str = ""
    # Addresses are counted by network: IPv4 /32 (one address), IPv6 /64 (one customer).
    shield_ipv4_prefix: int = Field(default=32, ge=8, le=32)
    shield_ipv6_prefix: int = Field(default=64, ge=16, le=128)
    # Rate limits in the `limits` notation ("25/5minutes", several joined by ";"; empty = none).
    # Per address for anonymous requests (login, sign-up and reset are always anonymous), per
    # account for signed-in members (Mastodon's split: members behind one NAT do not share).
    shield_login_per_address: str = "25/5minutes"
    shield_signup_per_address: str = "25/5minutes"
    shield_password_reset_per_address: str = "25/5minutes"  # noqa: S105 - a limit, not a secret
    shield_posting_per_account: str = "30/minute;300/hour"
    shield_writes_per_account: str = "300/minute"
    shield_search_per_address: str = "60/minute"
    shield_search_per_account: str = "120/minute"
    shield_notices_per_address: str = "30/hour"
    shield_notices_per_account: str = "60/hour"
    shield_reads_per_address: str = "900/5minutes"
    shield_reads_per_account: str = "3000/5minutes"
    shield_live_per_address: str = "60/minute"
    shield_live_per_account: str = "120/minute"
    # Key prefix of the counters in Redis (used when redis_url is set, shared by workers).
    shield_redis_prefix: str = "parvis:shield"
    # Overload control: the adaptive concurrency limit (AIMD on the latency of served requests)
    # starts at, and moves between, these bounds; the latency and event-loop lag it aims under;
    # the share of the limit anonymous reads and searches may use; how long members' writes and
    # live frames may wait for a slot (bounded, then 503) and how many may wait at once.
    shield_concurrency_initial: int = Field(default=32, ge=1)
    shield_concurrency_min: int = Field(default=4, ge=1)
    shield_concurrency_max: int = Field(default=256, ge=1)
    shield_latency_target_ms: float = Field(default=150.0, gt=0)
    shield_loop_lag_target_ms: float = Field(default=40.0, gt=0)
    shield_low_priority_share: float = Field(default=0.5, gt=0, le=1)
    shield_queue_wait_ms: float = Field(default=100.0, ge=0)
    shield_queue_max: int = Field(default=64, ge=0)
    # Log-ins, sign-ups and password resets hash passwords (argon2id: tens of ms of CPU each):
    # at most this many run at once per process; more are refused with 503 at once.
    shield_password_work_concurrency: int = Field(default=1, ge=1)
    # Slow clients: the longest wait for the next piece of a request body before 408.
    shield_body_timeout_seconds: float = Field(default=15.0, gt=0)
    # Largest body per route class (bytes) where it differs from max_form_bytes: login, sign-up,
    # reset, search and live forms are small.
    shield_small_body_bytes: int = Field(default=16 * 1024, ge=1024)
    # Proof-of-work challenge for anonymous HTML GETs in "under attack" mode: leading zero bits
    # of SHA-256 the browser must find, how long a solved pass lasts; automatic mode switches on
    # when at least shield_auto_sheds requests were shed within 10 s, for auto_minutes.
    shield_challenge_bits: int = Field(default=16, ge=1, le=28)
    shield_challenge_pass_hours: float = Field(default=12.0, gt=0)
    shield_auto_challenge: bool = True
    shield_auto_sheds: int = Field(default=500, ge=1)
    shield_auto_minutes: float = Field(default=10.0, gt=0)
    # /metrics: answered to loopback peers, signed-in admins, and `Authorization: Bearer <this>`
    # when set.
    shield_metrics_token: SecretStr = SecretStr("")
    # uvicorn (parvis serve): idle keep-alive timeout; how long a request head (request line and
    # headers) may take to arrive, from the connection or the first byte of a later request,
    # and how large it may be (408 / 431, `shield.protocol`); largest WebSocket message, and the
    # WebSocket messages queued per connection before back-pressure. The backlog is how many
    # connections the kernel holds until the server accepts them (capped by
    # net.core.somaxconn): a live room's join storm waits there instead of being dropped.
    serve_backlog: int = Field(default=4096, ge=16)
    serve_keep_alive_seconds: int = Field(default=5, ge=1)
    serve_header_timeout_seconds: float = Field(default=10.0, gt=0)
    serve_max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    serve_ws_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    serve_ws_max_queue: int = Field(default=32, ge=1)

    # SQLite durability: FULL survives power loss after a success response; NORMAL is faster.
    sqlite_synchronous: str = "FULL"

    @field_validator("sqlite_synchronous")
    @classmethod
    def _check_synchronous(cls, value: str) -> str:
        value = value.upper()
        if value not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError("must be one of OFF, NORMAL, FULL, EXTRA")
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL actually used (SQLite in the data directory by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'parvis.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite."""
        return self.resolved_database_url.startswith("sqlite")

    @property
    def outbox_dir(self) -> Path:
        """Folder where e-mails are written as .eml files when no SMTP server is set."""
        return self.data_dir / "outbox"

    @property
    def media_dir(self) -> Path:
        """Folder holding uploaded attachments."""
        return self.data_dir / "media"

    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag when the instance is served over HTTPS."""
        return self.base_url.startswith("https://")

    @property
    def domain(self) -> str:
        """Host part of the base URL, used for account handles."""
        return self.base_url.split("://", 1)[-1].split("/", 1)[0]

    def secret(self) -> str:
        """The signing secret, generated once and kept under the data directory."""
        given = self.secret_key.get_secret_value()
        if given:
            return given
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and the optional file named by PARVIS_CONFIG_FILE."""
    config_file = os.environ.get("PARVIS_CONFIG_FILE")
    if config_file:
        return Settings(_env_file=config_file, **overrides)
    return Settings(**overrides)
