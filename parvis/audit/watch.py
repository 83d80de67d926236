"""The witness (`parvis audit watch URL`): remembers every tree head it has seen from an
instance and checks that each new one extends the last. An instance that rewrites, forks or
rolls back its history — or swaps its key — is caught, and the evidence is kept in the state
file (two heads signed by the instance that cannot both be true)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from parvis.audit.heads import SignedHead, b64, unb64
from parvis.audit.merkle import ProofError, verify_consistency
from parvis.audit.remote import LogClient, RemoteError


class Alarm(Exception):
    """The instance served a head that contradicts one it served before."""


@dataclass
class Seen:
    """What the witness knows of one instance: its key and the heads it served, in order."""

    url: str
    public_key: str = ""
    heads: list[dict[str, Any]] | None = None
    alarms: list[dict[str, Any]] | None = None

    @classmethod
    def load(cls, path: Path, url: str) -> Seen:
        """Read the state file (a fresh state when it does not exist yet)."""
        if not path.exists():
            return cls(url, heads=[], alarms=[])
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            raise RemoteError(f"{path} is not a witness state file: {exc}") from exc
        if data.get("url") != url:
            raise RemoteError(f"{path} watches {data.get('url')}, not {url}")
        return cls(url, data.get("public_key", ""), data.get("heads", []), data.get("alarms", []))

    def save(self, path: Path) -> None:
        """Write the state atomically (a crash never leaves half a file)."""
        temporary = path.with_name(path.name + ".tmp")
        state = {
            "url": self.url,
            "public_key": self.public_key,
            "heads": self.heads,
            "alarms": self.alarms,
        }
        temporary.write_text(json.dumps(state, indent=1))
        os.replace(temporary, path)

    @property
    def last(self) -> SignedHead | None:
        """The newest head seen."""
        return SignedHead.from_json(self.heads[-1]) if self.heads else None


def observe(url: str, state_path: Path, client: httpx.Client | None = None) -> str:
    """Fetch the instance's head once and check it against what was seen before.

    Returns a one-line report; raises Alarm (after recording the evidence) when the instance
    contradicts itself, RemoteError when it cannot be read.
    """
    seen = Seen.load(state_path, url)
    last = seen.last
    with LogClient(url, client) as api:
        key = api.public_key()
        head = api.head()
        try:
            _check(seen, api, key, head)
        except Alarm as alarm:
            assert seen.alarms is not None
            evidence = {"problem": str(alarm), "head": head.to_json(), "key": b64(key)}
            seen.alarms.append({"at": int(time.time()), **evidence})
            seen.save(state_path)
            raise
    seen.public_key = b64(key)
    assert seen.heads is not None
    if last is None or head.tree_size > last.tree_size:
        seen.heads.append(head.to_json())
    seen.save(state_path)
    if last is None:
        return f"first head from {url}: size {head.tree_size}; key {b64(key)}"
    if head.tree_size == last.tree_size:
        return f"{url}: still {head.tree_size} leaves (same root)"
    return f"{url}: grew from {last.tree_size} to {head.tree_size} leaves, consistently"


def _check(seen: Seen, api: LogClient, key: bytes, head: SignedHead) -> None:
    if seen.public_key and unb64(seen.public_key, "public_key", 32) != key:
        raise Alarm("the instance now publishes a different signing key")
    try:
        head.verify(key)
    except ValueError as exc:
        raise Alarm(f"the latest head is not validly signed: {exc}") from exc
    last = seen.last
    if last is None:
        return
    if head.tree_size < last.tree_size:
        raise Alarm(
            f"rolled back: the log now has {head.tree_size} leaves, "
            f"after {last.tree_size} were seen"
        )
    if head.tree_size == last.tree_size:
        if head.root_hash != last.root_hash:
            raise Alarm(f"forked: two different roots signed for size {head.tree_size}")
        return
    proof = api.proof(
        "/proof/consistency", "consistency", first=last.tree_size, second=head.tree_size
    )
    try:
        verify_consistency(last.tree_size, head.tree_size, proof, last.root_hash, head.root_hash)
    except ProofError as exc:
        raise Alarm(
            f"history rewritten: the head of size {head.tree_size} does not extend the head of "
            f"size {last.tree_size} seen before ({exc})"
        ) from exc
