"""The database half of `verify`: every decision, appeal, rulebook version, list entry and
role matches its leaf, and every row that must be logged is."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from parvis.audit import backfill, leaves
from parvis.audit.log import LOGGED_DECISION_STATES
from parvis.audit.outcome import Outcome


class RowCheck:
    """Every recorded row matches its leaf, and every row that must be logged is."""

    def __init__(self, session: Session, outcome: Outcome) -> None:
        self.session = session
        self.outcome = outcome
        self.decisions: set[int] = set()
        self.appeals: set[int] = set()
        self.rulebooks: dict[int, tuple[int, str]] = {}
        self.list_added: dict[int, tuple[int, Any]] = {}  # entry id -> (leaf index, leaf row)
        self.list_removed: set[int] = set()
        self.roles: dict[int, tuple[int, str, str]] = {}  # account -> (leaf, role, username)

    def check(self, parsed: list[tuple[int, Any, dict[str, Any]]]) -> None:
        """Take a chunk of (index, leaf row, parsed fields) in index order."""
        by_kind: dict[str, list[tuple[int, Any, dict[str, Any]]]] = {}
        for index, row, fields in parsed:
            kind = fields.get("kind")
            if fields and (kind != row.kind or not str(row.ref).startswith(f"{kind}:")):
                self.outcome.add(index, "its kind or reference column was changed")
            by_kind.setdefault(str(kind), []).append((index, row, fields))
        self._decisions(by_kind.get(leaves.DECISION, []))
        self._appeals(by_kind.get(leaves.APPEAL, []))
        for index, row, fields in by_kind.get(leaves.RULEBOOK, []):
            self.rulebooks[int(fields.get("version", -1))] = (index, row.data)
        for index, row, fields in by_kind.get(leaves.LIST_CHANGE, []):
            entry_id = int(fields.get("entry_id", -1))
            if fields.get("change") == "remove":
                self.list_removed.add(entry_id)
                self.list_added.pop(entry_id, None)
            else:
                self.list_added[entry_id] = (index, row)
        for index, _leaf, fields in by_kind.get(leaves.ROLE, []):
            account = int(fields.get("account_id", -1))
            self.roles[account] = (index, str(fields.get("role")), str(fields.get("username")))

    def _decisions(self, items: list[tuple[int, Any, dict[str, Any]]]) -> None:
        if not items:
            return
        table = backfill.DECISIONS
        ids = [int(fields.get("decision_id", -1)) for _, _, fields in items]
        found = {
            int(row.id): row
            for row in self.session.execute(sa.select(table).where(table.c.id.in_(ids)))
        }
        for (index, leaf, fields), decision_id in zip(items, ids, strict=True):
            if decision_id in self.decisions:
                self.outcome.add(index, f"decision {decision_id} is logged twice")
            self.decisions.add(decision_id)
            row = found.get(decision_id)
            if row is None:
                self.outcome.add(index, f"decision {decision_id} was deleted from the database")
                continue
            if row.state not in LOGGED_DECISION_STATES:
                self.outcome.add(
                    index, f"decision {decision_id} took effect but is now marked {row.state}"
                )
            position = int(fields.get("leaf_index", index))  # a moved leaf is reported apart
            expected = leaves.decision_leaf(row, bytes(leaf.salt or b"")).data(position)
            if expected != leaf.data:
                self.outcome.add(
                    index,
                    f"decision {decision_id} no longer matches its leaf "
                    f"({_differences(leaf.data, expected)} changed)",
                )
            else:
                self.outcome.rows += 1

    def _appeals(self, items: list[tuple[int, Any, dict[str, Any]]]) -> None:
        if not items:
            return
        table = backfill.APPEALS
        ids = [int(fields.get("appeal_id", -1)) for _, _, fields in items]
        found = {
            int(row.id): row
            for row in self.session.execute(sa.select(table).where(table.c.id.in_(ids)))
        }
        for (index, leaf, _fields), appeal_id in zip(items, ids, strict=True):
            self.appeals.add(appeal_id)
            row = found.get(appeal_id)
            if row is None:
                self.outcome.add(index, f"appeal {appeal_id} was deleted from the database")
            elif leaves.appeal_leaf(row).data(index) != leaf.data:
                self.outcome.add(index, f"appeal {appeal_id} no longer matches its leaf")
            else:
                self.outcome.rows += 1

    def finish(self) -> None:
        """Checks that need every leaf first: rows that should be logged but are not."""
        session, outcome = self.session, self.outcome
        table = backfill.DECISIONS
        query = sa.select(table.c.id, table.c.state).where(
            table.c.state.in_(LOGGED_DECISION_STATES)
        )
        for decision_id, state in session.execute(query):
            if int(decision_id) not in self.decisions:
                outcome.add(None, f"decision {decision_id} ({state}) has no leaf in the log")
        appeals = backfill.APPEALS
        decided = sa.select(appeals.c.id).where(appeals.c.state != "open")
        for appeal_id in session.scalars(decided):
            if int(appeal_id) not in self.appeals:
                outcome.add(None, f"appeal {appeal_id} was decided but has no leaf in the log")
        self._finish_rulebooks()
        self._finish_lists()
        self._finish_roles()

    def _finish_rulebooks(self) -> None:
        table = backfill.RULEBOOKS
        seen = set()
        for row in self.session.execute(sa.select(table)):
            version = int(row.version)
            seen.add(version)
            logged = self.rulebooks.get(version)
            if hashlib.sha256(row.content.encode("utf-8")).hexdigest() != row.content_hash:
                self.outcome.add(
                    logged[0] if logged else None,
                    f"the text of rulebook version {version} was edited",
                )
            if logged is None:
                self.outcome.add(None, f"rulebook version {version} has no leaf in the log")
            elif leaves.rulebook_leaf(row).data(logged[0]) != logged[1]:
                self.outcome.add(
                    logged[0], f"rulebook version {version} no longer matches its leaf"
                )
            else:
                self.outcome.rows += 1
        for version, (index, _) in self.rulebooks.items():
            if version not in seen:
                self.outcome.add(index, f"rulebook version {version} was deleted")

    def _finish_lists(self) -> None:
        table = backfill.LIST_ENTRIES
        existing = {int(row.id): row for row in self.session.execute(sa.select(table))}
        for entry_id, row in existing.items():
            if entry_id in self.list_added:
                index, leaf = self.list_added[entry_id]
                salt = bytes(leaf.salt or b"")
                if leaves.list_leaf(row, "add", salt, row.created_at).data(index) != leaf.data:
                    self.outcome.add(index, f"list entry {entry_id} no longer matches its leaf")
                else:
                    self.outcome.rows += 1
            elif entry_id in self.list_removed:
                self.outcome.add(None, f"list entry {entry_id} is listed although it was removed")
            else:
                self.outcome.add(None, f"list entry {entry_id} has no leaf in the log")
        for entry_id, (index, _leaf) in self.list_added.items():
            if entry_id not in existing:
                self.outcome.add(index, f"list entry {entry_id} was deleted without a leaf")

    def _finish_roles(self) -> None:
        users = backfill.USERS
        query = sa.select(users.c.id, users.c.username, users.c.role)
        for account_id, username, role in self.session.execute(query):
            logged = self.roles.get(int(account_id))
            if logged is None:
                if role != "member":
                    self.outcome.add(None, f"@{username} is {role} but no role change was logged")
                continue
            index, logged_role, logged_name = logged
            if (logged_role, logged_name) != (role, username):
                self.outcome.add(
                    index, f"@{username} is {role} but the log last made them {logged_role}"
                )
            else:
                self.outcome.rows += 1


def _differences(stored: str, expected: str) -> str:
    try:
        old, new = json.loads(stored), json.loads(expected)
    except ValueError:
        return "the leaf"
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(keys) or "the encoding"
