"""Room recordings: parts on disk while live, audio attachments when the room ends."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from parvis.accounts.models import Role, User
from parvis.config import Settings
from parvis.live import recording, rooms
from parvis.live.models import Room, RoomParticipant
from parvis.live.relay import INIT, MEDIA, Record
from parvis.live.webm import WebmSplitter, recorder_like_stream
from parvis.runtime import Runtime
from parvis.social.models import Attachment
from tests.conftest import MakeUser
from tests.live.conftest import MakeClient
from tests.live.test_connection import _cookie, _until
from tests.web.conftest import login


def _recorded_room(runtime: Runtime, host: User) -> int:
    with runtime.db.session() as session:
        me = session.get_one(User, host.id)
        return rooms.schedule_room(session, me, title="Kept", recording=True).id


def _stream(speaker: int, frames: int) -> list[Record]:
    """A speaker's stream as the relay sees it: an init, then one cluster per chunk."""
    splitter = WebmSplitter()
    records = []
    for index, chunk in enumerate(recorder_like_stream([b"\x01" * 40] * frames)):
        init, clusters = splitter.feed(chunk)
        if init is not None:
            records.append(Record(INIT, speaker, index, time.time(), init))
        records += [Record(MEDIA, speaker, index, time.time(), c) for c in clusters]
    return records


def _end(runtime: Runtime, room_id: int, host: User) -> None:
    with runtime.db.session() as session:
        rooms.end_room(session, session.get_one(User, host.id), room_id)


def _parse(data: bytes) -> tuple[bytes | None, list[bytes]]:
    return WebmSplitter().feed(data)


def test_a_speaker_stream_becomes_a_playable_webm_part(settings: Settings) -> None:
    recorder = recording.Recorder(settings)
    records = _stream(7, 30)
    recorder.write(1, records[:10])
    assert recorder.recording(1)
    recorder.write(1, records[10:])
    recorder.end_stream(1, 7)
    parts = list(recording.room_dir(settings, 1).glob("*.webm"))
    assert len(parts) == 1
    assert parts[0].name.startswith("7-")
    init, clusters = _parse(parts[0].read_bytes())
    assert init == records[0].payload
    assert clusters == [r.payload for r in records[1:]]


def test_a_new_stream_from_the_same_speaker_starts_a_new_part(settings: Settings) -> None:
    recorder = recording.Recorder(settings)
    recorder.write(1, _stream(7, 5))
    time.sleep(0.002)
    recorder.write(1, _stream(7, 5))
    recorder.write(1, [_stream(8, 1)[0]])  # an init and nothing said: no part
    assert recorder.end_room(1)
    names = sorted(p.name for p in recording.room_dir(settings, 1).iterdir())
    assert len(names) == 2
    assert all(name.startswith("7-") for name in names)


def test_the_recording_stops_at_its_size_limit(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "MAX_ROOM_BYTES", 2000)
    recorder = recording.Recorder(settings)
    recorder.write(1, _stream(7, 200))
    assert not recorder.recording(1)
    recorder.write(1, _stream(7, 200))  # ignored from now on
    sizes = [p.stat().st_size for p in recording.room_dir(settings, 1).iterdir()]
    assert len(sizes) == 1
    assert 2000 <= sizes[0] < 2000 + 200


def test_publication_when_the_room_ends_once_and_only_what_may_be_published(
    runtime: Runtime, make_user: MakeUser
) -> None:
    settings = runtime.settings
    host, guest, troll = make_user("hostess"), make_user("guest"), make_user("troll")
    room_id = _recorded_room(runtime, host)
    recorder = recording.Recorder(settings)
    for speaker in (host, guest, troll):
        recorder.write(room_id, _stream(speaker.id, 10))
        recorder.end_stream(room_id, speaker.id)
    with runtime.db.session() as session:
        assert recording.publish(session, settings, room_id) == []  # still live: nothing
        # A speaker removed by a moderation decision is left out.
        session.add(RoomParticipant(room_id=room_id, user_id=troll.id, removed_by_decision_id=1))
    _end(runtime, room_id, host)
    with runtime.db.session() as session:
        created = recording.publish(session, settings, room_id)
        assert len(created) == 2
        assert recording.publish(session, settings, room_id) == []  # done once
        published = recording.recordings(session, room_id)
        assert [a.kind for a in published] == ["audio", "audio"]
        assert {a.owner_id for a in published} == {host.id}
        assert sorted(a.description.split(":")[1].split(",")[0] for a in published) == [
            " @guest",
            " @hostess",
        ]
        assert all(a.post_id is None and a.content_type == "audio/webm" for a in published)
        keys = [a.storage_key for a in published]
    for key in keys:
        assert (settings.media_dir / key).stat().st_size > 0
    left = [p.name for p in recording.room_dir(settings, room_id).iterdir()]
    assert left
    assert all(name.startswith(f"{troll.id}-") for name in left)


def test_a_room_ended_by_a_decision_keeps_its_recording_unpublished(
    runtime: Runtime, make_user: MakeUser
) -> None:
    host = make_user("hostess")
    room_id = _recorded_room(runtime, host)
    recorder = recording.Recorder(runtime.settings)
    recorder.write(room_id, _stream(host.id, 5))
    recorder.end_room(room_id)
    _end(runtime, room_id, host)
    with runtime.db.session() as session:
        session.get_one(Room, room_id).ended_by_decision_id = 99
    with runtime.db.session() as session:
        assert recording.publish(session, runtime.settings, room_id) == []
        assert session.query(Attachment).count() == 0
        # Kept on disk for moderators, and never "waiting to be published".
        withheld = recording.withheld(session, runtime.settings, room_id)
        assert [part.speaker_id for part in withheld] == [host.id]
        assert not recording.pending(session, runtime.settings, room_id)


def test_a_part_abandoned_by_a_crashed_process_is_published_once_stale(
    runtime: Runtime, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = make_user("hostess")
    room_id = _recorded_room(runtime, host)
    recorder = recording.Recorder(runtime.settings)
    recorder.write(room_id, _stream(host.id, 5))
    recorder._parts.pop((room_id, host.id)).handle.close()  # the process dies: no rename
    _end(runtime, room_id, host)
    with runtime.db.session() as session:
        assert recording.publish(session, runtime.settings, room_id) == []  # may still grow
    monkeypatch.setattr(recording, "STALE_PART_SECONDS", 0.0)
    with runtime.db.session() as session:
        assert len(recording.publish(session, runtime.settings, room_id)) == 1


def test_the_host_speaks_ends_the_room_and_finds_the_recording_on_its_page(
    runtime: Runtime, make_user: MakeUser, live_client: MakeClient
) -> None:
    host = make_user("hostess")
    room_id = _recorded_room(runtime, host)
    client = live_client()
    chunks = recorder_like_stream([i.to_bytes(2, "big") * 40 for i in range(40)])
    path = f"/live/rooms/{room_id}/ws"
    with client.websocket_connect(path, headers=_cookie(client, "hostess")) as speaker:
        _until(speaker, "welcome")
        for chunk in chunks:
            speaker.send_bytes(chunk)
        with client.websocket_connect(path) as listener:
            _until(listener, "welcome")
        speaker.send_json({"type": "end"})
        _until(speaker, "ended", limit=500)
    deadline = time.monotonic() + 10
    while True:
        page = client.get(f"/live/rooms/{room_id}")
        if "<audio controls" in page.text or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "Recording of the live room" in page.text
    key = page.text.split('src="/media/')[1].split('"')[0]
    audio = client.get(f"/media/{key}")
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/webm"
    init, clusters = _parse(audio.content)
    assert init is not None
    assert init.startswith(bytes.fromhex("1a45dfa3"))
    assert len(clusters) >= 30  # what was said, cluster by cluster
    assert Path(runtime.settings.media_dir / key).exists()


def test_moderators_hear_what_a_decision_withheld_and_nobody_else_does(
    runtime: Runtime, make_user: MakeUser, live_client: MakeClient
) -> None:
    host, troll = make_user("hostess"), make_user("troll")
    make_user("mod", role=Role.MODERATOR)
    room_id = _recorded_room(runtime, host)
    recorder = recording.Recorder(runtime.settings)
    for speaker in (host, troll):
        recorder.write(room_id, _stream(speaker.id, 5))
        recorder.end_stream(room_id, speaker.id)
    with runtime.db.session() as session:  # a decision removed the troll from the stage
        session.add(RoomParticipant(room_id=room_id, user_id=troll.id, removed_by_decision_id=1))
    _end(runtime, room_id, host)
    with runtime.db.session() as session:
        assert len(recording.publish(session, runtime.settings, room_id)) == 1  # the host's
        parts = recording.withheld(session, runtime.settings, room_id)
        assert [part.speaker_id for part in parts] == [troll.id]
        assert not recording.pending(session, runtime.settings, room_id)  # nothing left to publish
    withheld_url = f"/live/rooms/{room_id}/withheld/{parts[0].name}"

    moderator = live_client()
    login(moderator, "mod")
    page = moderator.get(f"/live/rooms/{room_id}")
    assert "Withheld by a decision (moderators only)" in page.text
    assert "@troll" in page.text
    assert withheld_url in page.text
    assert "being published" not in page.text
    audio = moderator.get(withheld_url)
    assert audio.status_code == 200
    assert audio.headers["cache-control"] == "private, no-store"
    assert _parse(audio.content)[0] is not None  # a playable WebM with its init segment
    assert moderator.get(f"/live/rooms/{room_id}/withheld/..%2F..%2Fsecret_key").status_code == 404

    member = live_client()
    login(member, "hostess")
    assert "Withheld by a decision" not in member.get(f"/live/rooms/{room_id}").text
    assert member.get(withheld_url).status_code == 403
    assert live_client().get(withheld_url).status_code in (401, 303)
