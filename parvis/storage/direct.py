"""Insert one mapped row at once, on the session's own driver connection.

Why not `session.add` and a flush here: the decision path writes a decision, its effect, a
notification and an e-mail for every post a rule removes automatically, inline in the post's
request, and the unit of work spends several times what SQLite does on each of them (a flush
of one row costs ~0.3 ms of Python). This writes the row as SQLAlchemy would (the column's
Python-side defaults, the types' bind processing) with one driver call, then attaches the
object to the session as if it had been loaded, so everything after (reads, updates, the
identity map) goes through the ORM as usual.

Only plain tables qualify: one integer primary key (generated when not given), no server-side
defaults that the object would need to read back, and no ORM events on insert (Parvis has
none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Table, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached

from parvis.storage.base import Base


@dataclass(frozen=True, slots=True)
class _Column:
    key: str  # the mapped attribute
    name: str  # the column
    default: Callable[[], Any] | None
    bind: Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Plan:
    columns: tuple[_Column, ...]
    primary_key: str
    generated_sql: str  # the primary key left to the database
    given_sql: str  # the primary key given
    keys: frozenset[str]  # every mapped column attribute
    new_instance: Callable[[], Any]  # an instance with its ORM state and nothing else


_plans: dict[tuple[type, str], _Plan] = {}


def _default_of(column: Any) -> Callable[[], Any] | None:
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        value = default.arg
        return lambda: value
    if default.is_callable:
        function = default.arg  # SQLAlchemy's wrapper, taking an execution context
        return lambda: function(None)
    raise TypeError(f"{column}: only scalar and callable defaults can be written directly")


def _parameter(name: str, dialect: str) -> str:
    return f":{name}" if dialect == "sqlite" else f"%({name})s"


def _plan(model: type, dialect: Dialect) -> _Plan:
    known = _plans.get((model, dialect.name))
    if known is not None:
        return known
    # Instances made by `new_instance` skip the constructor, whose first call would otherwise
    # finish setting up the mappers (attribute instrumentation included).
    configure_mappers()
    table: Any = inspect(model).local_table
    assert isinstance(table, Table)
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        raise TypeError(f"{table.name}: direct inserts need a single-column primary key")
    primary = keys[0]
    columns = []
    for column in table.columns:
        if column.server_default is not None:
            raise TypeError(f"{table.name}.{column.name} has a server default")
        processor = column.type.dialect_impl(dialect).bind_processor(dialect)
        columns.append(_Column(column.key, column.name, _default_of(column), processor))

    def sql(included: list[_Column]) -> str:
        names = ", ".join(c.name for c in included)
        values = ", ".join(_parameter(c.name, dialect.name) for c in included)
        # Names from the mapped table, values bound: nothing here comes from input.
        text = f"INSERT INTO {table.name} ({names}) VALUES ({values})"  # noqa: S608
        return text if dialect.name == "sqlite" else f"{text} RETURNING {primary.name}"

    plan = _Plan(
        columns=tuple(columns),
        primary_key=primary.key,
        generated_sql=sql([c for c in columns if c.key != primary.key]),
        given_sql=sql(columns),
        keys=frozenset(c.key for c in columns),
        new_instance=inspect(model).class_manager.new_instance,
    )
    _plans[(model, dialect.name)] = plan
    return plan


_UNSET = object()


def _columns_only(session: Session, model: type, values: dict[str, Any]) -> _Plan:
    """The model's plan, once `values` are known to name columns only (a misspelt one would
    otherwise be dropped without a word)."""
    plan = _plan(model, session.get_bind().dialect)
    if not plan.keys.issuperset(values):
        unknown = ", ".join(sorted(set(values) - plan.keys))
        raise TypeError(f"{model.__name__} has no column for: {unknown}")
    return plan


def _write(session: Session, model: type, values: dict[str, Any]) -> tuple[str, Any]:
    """Write one row of `model` on the session's driver connection; returns the primary key's
    attribute and value. Columns missing from `values` get their defaults, put into `values`."""
    if session.new:
        session.flush()
    connection = session.connection()
    plan = _plan(model, connection.dialect)
    key = values.get(plan.primary_key)
    generated = key is None
    params: dict[str, Any] = {}
    for column in plan.columns:
        if column.key == plan.primary_key and generated:
            continue
        value = values.get(column.key, _UNSET)
        if value is _UNSET:
            value = values[column.key] = column.default() if column.default is not None else None
        params[column.name] = column.bind(value) if column.bind is not None else value
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.execute(plan.generated_sql if generated else plan.given_sql, params)
    try:
        if generated:
            key = cursor.lastrowid if connection.dialect.name == "sqlite" else cursor.fetchone()[0]
    finally:
        cursor.close()
    return plan.primary_key, key


_Row = TypeVar("_Row", bound=Base)


def insert_object(
    session: Session, model: type[_Row], *, attach: bool = True, **values: Any
) -> _Row:
    """Write a new row of `model` from column values in the session's transaction at once, and
    return it as a mapped object attached to the session as if it had been loaded: what
    constructing it, `session.add` and a flush would do, at a fraction of the cost. Objects
    still waiting in the session are flushed first, so a row that refers to them finds them.
    The values go straight into the new instance, without the mapped constructor's
    per-attribute change events, which attaching it as loaded would only undo.

    `attach=False` returns the object outside the session, for a caller that only reads its
    columns (its relationships are not loaded): attaching is a third of the cost, and a later
    `session.get` in the transaction reads the row from the database instead."""
    row = _columns_only(session, model, values).new_instance()
    row.__dict__.update(values)
    primary_key, key = _write(session, model, row.__dict__)
    row.__dict__[primary_key] = key  # becomes part of the loaded state below, like the rest
    if not attach:
        return row  # type: ignore[no-any-return]
    make_transient_to_detached(row)
    session.add(row)
    # Recorded as new in this transaction, as a flush records what it inserts, so a rollback
    # (of the transaction or of a savepoint around this) takes the object out of the session
    # instead of leaving a persistent object whose row is gone. SQLAlchemy has no public call
    # for this; `tests/storage/test_direct.py` fails if its internals move.
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is not None:
        transaction._new[inspect(row)] = True
    return row  # type: ignore[no-any-return]


def insert_values(session: Session, model: type[Base], **values: Any) -> int:
    """Write a new row of `model` from column values in the session's transaction at once,
    with no ORM object at all; returns its primary key. For rows the transaction never uses
    as objects afterwards (a queued e-mail, a notification): building and attaching the
    object is most of what `insert_object` costs. Reads later in the transaction find the row in
    the database like any other."""
    _columns_only(session, model, values)
    return int(_write(session, model, values)[1])
