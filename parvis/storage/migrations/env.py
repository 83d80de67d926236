"""Alembic environment: migrates the connection (or URL) handed in by parvis.storage.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from parvis.storage.registry import metadata

config = context.config


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # Full-text search objects are created by hand in migrations, per database.
    return not (name or "").startswith(("posts_fts", "ix_posts_search"))


def run_migrations() -> None:
    """Run migrations on the connection given in config attributes, or on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=True,
            include_object=_include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=metadata,
            render_as_batch=True,
            include_object=_include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
