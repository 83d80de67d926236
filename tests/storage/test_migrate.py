"""Migrations build the same schema the models describe, and can be re-run."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from parvis.config import Settings
from parvis.storage import migrate
from parvis.storage.database import make_engine
from parvis.storage.registry import metadata


def test_upgrade_creates_every_model_table_and_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path))
    assert migrate.is_empty(engine)
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= tables
    assert "posts_fts" in tables
    assert migrate.is_empty(engine)
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_migrations_match_the_models(tmp_path: Path) -> None:
    """A model change without its migration fails here (run `parvis db revision`)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(Settings(data_dir=tmp_path))
    migrate.upgrade(engine)

    def include(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        return not (name or "").startswith(("posts_fts", "ix_posts_search"))

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"


def test_migrations_form_one_line_of_history() -> None:
    """Two migrations revising the same parent would fork the schema's history: renumber one."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1, f"several heads: {scripts.get_heads()}"
    assert len(scripts.get_bases()) == 1


def test_the_text_key_migration_fills_the_posts_flood_screening_can_still_see(
    tmp_path: Path,
) -> None:
    """0018 keys the last day's posts (flood screening looks one hour back); older ones stay
    unkeyed, and nothing else about the posts changes."""
    from datetime import timedelta

    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from parvis.accounts import services as accounts
    from parvis.moderation.signals.flood import text_key
    from parvis.social.models import Post
    from parvis.storage.base import utcnow

    settings = Settings(data_dir=tmp_path, argon2_memory_kib=64, argon2_time_cost=1)
    engine = make_engine(settings)
    migrate.upgrade(engine, "0017")
    with Session(engine) as session, session.begin():
        author = accounts.create_user(
            session,
            settings,
            username="early",
            email="e@x.invalid",
            password="x" * 12,
            check_strength=False,
        )
        for body, age in (("Hello  THERE", timedelta(minutes=5)), ("old", timedelta(days=3))):
            session.execute(
                insert(Post).values(
                    author_id=author.id,
                    body_source=body,
                    body_html=f"<p>{body}</p>",
                    created_at=utcnow() - age,
                )
            )
    migrate.upgrade(engine)
    with Session(engine) as session:
        keys = dict(session.execute(select(Post.body_source, Post.text_key)).all())
    engine.dispose()
    assert keys == {"Hello  THERE": text_key("hello there"), "old": None}


def test_decisions_taken_before_the_statement_outbox_are_not_delivered_again(
    tmp_path: Path,
) -> None:
    """0019 adds the pending-statement mark: decisions already there were delivered when they
    were taken, so none of them is marked."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from parvis.moderation.models import Decision
    from parvis.storage.base import UTCDateTime, utcnow

    settings = Settings(data_dir=tmp_path, argon2_memory_kib=64, argon2_time_cost=1)
    engine = make_engine(settings)
    migrate.upgrade(engine, "0018")
    values: dict[str, object] = {
        "subject_type": "url",
        "subject_key": "https://example.org/",
        "rule_id": "spam",
        "rulebook_version": 1,
        "action": "block_url",
        "features": "",
        "facts": "Listed.",
        "automated_detection": False,
        "automated_decision": "not",
        "source": "voluntary",
        "territorial_scope": "FR",
        "state": "in_effect",
        "statement_json": "{}",
        "starts_at": utcnow(),
        "created_at": utcnow(),
    }
    columns = [sa.column(name, UTCDateTime() if name.endswith("_at") else None) for name in values]
    with Session(engine) as session, session.begin():
        session.execute(sa.insert(sa.table("decisions", *columns)).values(values))
    migrate.upgrade(engine)
    with Session(engine) as session:
        marks = session.scalars(sa.select(Decision.statement_pending)).all()
    engine.dispose()
    assert marks == [False]
