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
