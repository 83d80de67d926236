"""Room recordings: what the speakers said, kept on disk while the room is live and published
as audio attachments when it ends (for rooms scheduled with "Keep a recording").

Each speaker's stream is recorded by the process that receives it, as the relay sees it: the
stream's WebM init segment, then every self-contained Cluster in order — together a playable
WebM/Opus file. A new stream from the same speaker (they stopped and started again, which
restarts the recorder's timestamps) starts a new part; so a room with a host and a guest gives
one file per speaker and per time they spoke, each named after the speaker and its start time.
Mixing the speakers into one track would need decoding and re-encoding the audio, which the
relay never does.

Parts are written under `<data dir>/live/recordings/<room id>/` as `<stream>-<start ms>.webm.part`
and renamed `.webm` when the stream ends. When the room ends, `publish` moves the finished
parts into the media folder and records each as an `Attachment` (kind "audio", owned by the
host, not attached to any post), listed on the room page and served at `/media/...` like every
other attachment. Publishing is safe to repeat and to race: a file is moved by exactly one
caller (an atomic rename), and every process publishes what it finished when it learns the
room ended. A part left behind by a crashed process is taken as finished once untouched for
`STALE_PART_SECONDS`.

Bounded: a room's recording stops at `MAX_ROOM_BYTES` per process (about 18 hours of 32 kbit/s
Opus). Not published: the recording of a room ended by a moderation decision, and the parts of
a speaker removed by one — the decision may concern exactly what they said; the files stay in
the recordings folder, and moderators can hear them from the room page (`withheld`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.config import Settings
from parvis.errors import NotFound
from parvis.live import metrics
from parvis.live.models import Room, RoomParticipant, RoomState
from parvis.live.relay import INIT, MEDIA, Record
from parvis.social import media
from parvis.social.models import Attachment

log = logging.getLogger("parvis.live")
MAX_ROOM_BYTES = 256 * 1024 * 1024
STALE_PART_SECONDS = 30.0
KEY_PREFIX = "live"


def room_dir(settings: Settings, room_id: int) -> Path:
    """Where a room's parts are written while it is live."""
    return settings.data_dir / "live" / "recordings" / str(room_id)


@dataclass
class Part:
    """One speaker stream being written."""

    path: Path
    handle: BinaryIO
    clusters: int = 0


class Recorder:
    """The parts this process is writing, for the rooms whose speakers are connected here."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._parts: dict[tuple[int, int], Part] = {}
        self._room_bytes: dict[int, int] = {}
        self._full: set[int] = set()

    def write(self, room_id: int, records: list[Record]) -> None:
        """Append a speaker's records to their part (an init record starts a new part)."""
        if room_id in self._full:
            return
        for record in records:
            key = (room_id, record.stream)
            if record.kind == INIT:
                self._finish(key)
                folder = room_dir(self.settings, room_id)
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{record.stream}-{int(record.received_at * 1000)}.webm.part"
                part = Part(path, open(path, "wb"))  # noqa: SIM115 - closed in _finish
                self._parts[key] = part
            else:
                found = self._parts.get(key)
                if found is None or record.kind != MEDIA:
                    continue
                part = found
                part.clusters += 1
            part.handle.write(record.payload)
            size = self._room_bytes.get(room_id, 0) + len(record.payload)
            self._room_bytes[room_id] = size
            metrics.RECORDED_BYTES.inc(len(record.payload))
            if size >= MAX_ROOM_BYTES:
                log.warning("live: room %d's recording reached its size limit", room_id)
                self._full.add(room_id)
                self.end_room(room_id)
                return

    def recording(self, room_id: int) -> bool:
        """Whether any part of this room is being written here."""
        return any(key[0] == room_id for key in self._parts)

    def end_stream(self, room_id: int, stream: int) -> None:
        """A speaker stopped: their part is finished."""
        self._finish((room_id, stream))

    def end_room(self, room_id: int) -> bool:
        """The room ended: finish its parts. True if there were any."""
        keys = [key for key in self._parts if key[0] == room_id]
        for key in keys:
            self._finish(key)
        return bool(keys)

    def close(self) -> None:
        """Finish every part (shutdown)."""
        for key in list(self._parts):
            self._finish(key)

    def _finish(self, key: tuple[int, int]) -> None:
        part = self._parts.pop(key, None)
        if part is None:
            return
        with contextlib.suppress(OSError):
            part.handle.close()
        if part.clusters:
            with contextlib.suppress(OSError):
                os.replace(part.path, part.path.with_suffix(""))  # x.webm.part -> x.webm
        else:
            with contextlib.suppress(OSError):
                part.path.unlink()


def _finished_parts(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = list(folder.glob("*.webm"))
    now = time.time()
    for path in folder.glob("*.webm.part"):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > STALE_PART_SECONDS:
                target = path.with_suffix("")
                os.replace(path, target)
                found.append(target)
    return sorted(found, key=lambda path: (_start_ms(path), path.name))


def _speaker(path: Path) -> int | None:
    """The speaker (stream) a part's file name says it holds; None for a stranger's file."""
    try:
        return int(path.name.split("-")[0])
    except ValueError:
        return None


def _start_ms(path: Path) -> int:
    try:
        return int(path.name.split(".")[0].split("-")[1])
    except (IndexError, ValueError):
        return 0


def publish(session: Session, settings: Settings, room_id: int) -> list[Attachment]:
    """Publish a room's finished parts as audio attachments, if the room has ended and was
    not ended by a moderation decision. Returns the attachments created by this call."""
    room = session.get(Room, room_id)
    if room is None or room.state != RoomState.ENDED.value or not room.recording:
        return []
    if room.ended_by_decision_id is not None:
        return []
    withheld = _removed_speakers(session, room_id)
    created = []
    for path in _finished_parts(room_dir(settings, room_id)):
        stream = _speaker(path)
        if stream is None or stream in withheld:
            continue
        key = f"{KEY_PREFIX}/{room_id}/{path.name}"
        target = media.media_path(settings, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, target)  # exactly one caller wins a part
        except FileNotFoundError:
            continue
        speaker = session.get(User, stream)
        who = f"@{speaker.username}" if speaker else "a speaker"
        started = datetime.fromtimestamp(_start_ms(path) / 1000, UTC)
        digest = hashlib.sha256()
        with open(target, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        attachment = Attachment(
            owner_id=room.host_id,
            kind="audio",
            content_type="audio/webm",
            storage_key=key,
            original_name=f"{room.title[:150]} - {who} - {started:%Y-%m-%d %H.%M} UTC.webm",
            size=target.stat().st_size,
            sha256=digest.hexdigest(),
            description=(
                f"Recording of the live room “{room.title[:200]}”: {who}, from "
                f"{started:%Y-%m-%d %H:%M:%S} UTC."
            ),
        )
        session.add(attachment)
        created.append(attachment)
    session.flush()
    return created


def _removed_speakers(session: Session, room_id: int) -> set[int]:
    return set(
        session.scalars(
            select(RoomParticipant.user_id).where(
                RoomParticipant.room_id == room_id,
                RoomParticipant.removed_by_decision_id.is_not(None),
            )
        )
    )


@dataclass(frozen=True)
class WithheldPart:
    """A finished part that a moderation decision kept from publication."""

    name: str
    speaker_id: int
    started_at: datetime
    size: int


def withheld(session: Session, settings: Settings, room_id: int) -> list[WithheldPart]:
    """The parts of an ended room that a decision kept back: all of them when a decision ended
    the room, else those of speakers a decision removed. They are what the decision may be
    about, so moderators (and whoever reviews an appeal) can still hear them; nobody else."""
    room = session.get(Room, room_id)
    if room is None or room.state != RoomState.ENDED.value or not room.recording:
        return []
    removed = None if room.ended_by_decision_id is not None else _removed_speakers(session, room_id)
    parts = []
    for path in _finished_parts(room_dir(settings, room_id)):
        speaker = _speaker(path)
        if speaker is None or (removed is not None and speaker not in removed):
            continue
        with contextlib.suppress(OSError):  # the file went away meanwhile
            size = path.stat().st_size
            started = datetime.fromtimestamp(_start_ms(path) / 1000, UTC)
            parts.append(WithheldPart(path.name, speaker, started, size))
    return parts


def pending(session: Session, settings: Settings, room_id: int) -> bool:
    """Whether parts of this room still wait to be published (parts a decision withheld never
    will be, so they do not count)."""
    room = session.get(Room, room_id)
    if room is None or room.ended_by_decision_id is not None:
        return False
    folder = room_dir(settings, room_id)
    if not folder.is_dir():
        return False
    removed = _removed_speakers(session, room_id)
    return any(
        speaker is not None and speaker not in removed
        for speaker in map(_speaker, folder.glob("*.webm*"))
    )


def withheld_file(session: Session, settings: Settings, room_id: int, name: str) -> Path:
    """The file of one withheld part (NotFound unless `withheld` lists that name: the name
    comes from a URL and must not reach outside the room's folder)."""
    if any(part.name == name for part in withheld(session, settings, room_id)):
        return room_dir(settings, room_id) / name
    raise NotFound("No such withheld recording in this room.")


def recordings(session: Session, room_id: int) -> list[Attachment]:
    """A room's published recordings, in the order they were spoken."""
    rows = session.scalars(
        select(Attachment).where(
            Attachment.kind == "audio",
            Attachment.storage_key.like(f"{KEY_PREFIX}/{room_id}/%"),
        )
    )
    return sorted(rows, key=lambda row: (_start_ms(Path(row.storage_key)), row.storage_key))
