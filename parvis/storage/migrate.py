"""Apply Alembic migrations: used by `parvis db upgrade`, at start-up and by the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at Parvis's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (the newest by default)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def optimize(engine: Engine) -> None:
    """Let SQLite refresh its planner statistics where they are stale (cheap; run at start)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA optimize=0x10002")


def is_empty(engine: Engine) -> bool:
    """True when the database has no members yet (fresh install)."""
    from sqlalchemy import text

    if not inspect(engine).has_table("users"):
        return True
    with engine.connect() as connection:
        return connection.execute(text("SELECT 1 FROM users LIMIT 1")).first() is None
