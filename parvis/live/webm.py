"""Just enough WebM (EBML) to relay a browser's MediaRecorder stream to late joiners.

Why this exists: MediaRecorder's `audio/webm;codecs=opus` output is one continuous file cut into
arbitrary chunks. Only the first chunk carries the header (EBML header, Segment, Info, Tracks)
without which no decoder starts, and a chunk may begin in the middle of a Cluster, whose
blocks' timestamps are relative to a Cluster header sent earlier. A listener who joins late, or
a slow listener who skipped ahead, can therefore not start from an arbitrary chunk.

So the relay splits the incoming stream at element boundaries: everything before the first
Cluster is kept as the stream's *init* segment (sent first to every joiner), and the blocks
that arrive are re-wrapped into small self-contained Clusters (the original cluster's Timecode
plus the complete SimpleBlocks received), each appendable on its own after the init by
MediaSource (`SourceBuffer` in "sequence" mode closes any gap). No maintained Python library
parses WebM incrementally from a socket (PyAV/ffmpeg want a file-like stream per room and a
codec stack); the subset needed here is element framing, about a hundred lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EBML_HEADER = 0x1A45DFA3
SEGMENT = 0x18538067
CLUSTER = 0x1F43B675
TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
UNKNOWN_SIZE = -1
MAX_ELEMENT = 1 << 20  # a header or block bigger than this is not an audio stream
# Elements that may appear inside a Cluster; anything else ends an unknown-sized Cluster.
CLUSTER_CHILDREN = frozenset({TIMECODE, SIMPLE_BLOCK, BLOCK_GROUP, 0xA7, 0xAB, 0xEC, 0x5854})


class WebmError(ValueError):
    """The bytes are not a WebM stream this relay can follow."""


def _read_vint(data: bytes | bytearray, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """(value, length) of the variable-length integer at `pos`, or None if incomplete."""
    if pos >= len(data):
        return None
    first = data[pos]
    if first == 0:
        raise WebmError("invalid EBML variable-length integer")
    length = 9 - first.bit_length()
    if pos + length > len(data):
        return None
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return UNKNOWN_SIZE, length
    return value, length


def _header(data: bytes | bytearray, pos: int) -> tuple[int, int, int] | None:
    """(element id, size or UNKNOWN_SIZE, header length) at `pos`, or None if incomplete."""
    found = _read_vint(data, pos, keep_marker=True)
    if found is None:
        return None
    element_id, id_length = found
    if id_length > 4:
        raise WebmError("invalid EBML element id")
    size = _read_vint(data, pos + id_length, keep_marker=False)
    if size is None:
        return None
    return element_id, size[0], id_length + size[1]


def encode_size(size: int) -> bytes:
    """An EBML size field of minimal length."""
    for length in range(1, 9):
        if size < (1 << (7 * length)) - 1:
            return ((1 << (7 * length)) | size).to_bytes(length, "big")
    raise WebmError("element too large")


def element(element_id: int, payload: bytes) -> bytes:
    """One EBML element with a known size."""
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return id_bytes + encode_size(len(payload)) + payload


def cluster(timecode: int, blocks: list[bytes]) -> bytes:
    """A self-contained Cluster: its Timecode and the given (already encoded) blocks."""
    stamp = timecode.to_bytes(max(1, (timecode.bit_length() + 7) // 8), "big")
    return element(CLUSTER, element(TIMECODE, stamp) + b"".join(blocks))


@dataclass
class WebmSplitter:
    """Follows one MediaRecorder stream: `feed` chunks in, get (init, clusters) out."""

    init: bytes = b""
    _buffer: bytearray = field(default_factory=bytearray)
    _header_parts: list[bytes] = field(default_factory=list)
    _in_header: bool = True
    _cluster_left: int | None = None  # bytes left in a known-size Cluster; None: outside
    _in_unknown_cluster: bool = False
    _timecode: int | None = None

    def feed(self, chunk: bytes) -> tuple[bytes | None, list[bytes]]:
        """Consume a chunk; returns a new init segment (or None) and complete clusters."""
        self._buffer += chunk
        new_init: bytes | None = None
        blocks: list[bytes] = []
        out: list[bytes] = []
        pos = 0
        data = self._buffer
        while True:
            head = _header(data, pos)
            if head is None:
                break
            element_id, size, head_length = head
            if (
                size != UNKNOWN_SIZE
                and size > MAX_ELEMENT
                and element_id
                not in (
                    SEGMENT,
                    CLUSTER,
                )
            ):
                raise WebmError("element too large for an audio stream")
            if element_id == EBML_HEADER:
                if not self._in_header or self._header_parts:
                    self._flush(blocks, out)
                    self._restart()
                if pos + head_length + size > len(data):
                    break
                self._header_parts.append(bytes(data[pos : pos + head_length + size]))
                pos += head_length + size
                continue
            if self._in_header:
                if element_id == SEGMENT:
                    self._header_parts.append(bytes(data[pos : pos + head_length]))
                    pos += head_length
                    continue
                if element_id == CLUSTER:
                    if not self._header_parts:
                        raise WebmError("the stream must start with its WebM header")
                    self.init = new_init = b"".join(self._header_parts)
                    self._in_header = False
                    continue  # handled below as a cluster start
                if size == UNKNOWN_SIZE:
                    raise WebmError("unexpected element of unknown size in the header")
                if pos + head_length + size > len(data):
                    break
                self._header_parts.append(bytes(data[pos : pos + head_length + size]))
                pos += head_length + size
                continue
            if element_id == CLUSTER:
                self._flush(blocks, out)
                self._timecode = None
                self._in_unknown_cluster = size == UNKNOWN_SIZE
                self._cluster_left = None if size == UNKNOWN_SIZE else size
                pos += head_length
                continue
            inside = self._in_unknown_cluster or (self._cluster_left or 0) > 0
            if inside and element_id not in CLUSTER_CHILDREN:
                self._flush(blocks, out)
                self._in_unknown_cluster = False
                self._cluster_left = None
                inside = False
            if size == UNKNOWN_SIZE:
                raise WebmError("unexpected element of unknown size")
            end = pos + head_length + size
            if end > len(data):
                break
            if inside:
                if element_id == TIMECODE:
                    self._flush(blocks, out)
                    self._timecode = int.from_bytes(data[pos + head_length : end], "big")
                elif element_id in (SIMPLE_BLOCK, BLOCK_GROUP):
                    blocks.append(bytes(data[pos:end]))
                if self._cluster_left is not None:
                    self._cluster_left -= end - pos
                    if self._cluster_left <= 0:
                        self._cluster_left = None
            pos = end
        self._flush(blocks, out)
        del self._buffer[:pos]
        if len(self._buffer) > MAX_ELEMENT + 16:
            raise WebmError("element too large for an audio stream")
        return new_init, out

    def _flush(self, blocks: list[bytes], out: list[bytes]) -> None:
        if blocks and self._timecode is not None:
            out.append(cluster(self._timecode, blocks))
        blocks.clear()

    def _restart(self) -> None:
        self._header_parts = []
        self._in_header = True
        self._cluster_left = None
        self._in_unknown_cluster = False
        self._timecode = None


def recorder_like_stream(payloads: list[bytes], frame_ms: int = 20) -> list[bytes]:
    """Chunks shaped like MediaRecorder's output for Opus audio in WebM: the first chunk holds
    the header and opens an unknown-sized Cluster, then one SimpleBlock per payload. Used by
    tests and `bench/live.py` to stand in for a browser."""
    opus_head = b"OpusHead" + bytes([1, 1]) + (312).to_bytes(2, "little")
    opus_head += (48000).to_bytes(4, "little") + bytes(3)
    track = element(
        0xAE,
        element(0xD7, b"\x01")
        + element(0x73C5, b"\x01")
        + element(0x83, b"\x02")
        + element(0x86, b"A_OPUS")
        + element(0x63A2, opus_head)
        + element(0xE1, element(0xB5, b"\x47\x3b\x80\x00") + element(0x9F, b"\x01")),
    )
    header = (
        element(EBML_HEADER, element(0x4282, b"webm") + element(0x4287, b"\x04"))
        + SEGMENT.to_bytes(4, "big")
        + b"\x01\xff\xff\xff\xff\xff\xff\xff"
        + element(0x1549A966, element(0x2AD7B1, (1_000_000).to_bytes(3, "big")))
        + element(0x1654AE6B, track)
        + CLUSTER.to_bytes(4, "big")
        + b"\x01\xff\xff\xff\xff\xff\xff\xff"
        + element(TIMECODE, b"\x00")
    )
    chunks = []
    for index, payload in enumerate(payloads):
        relative = (index * frame_ms) % 30000
        block = element(SIMPLE_BLOCK, b"\x81" + relative.to_bytes(2, "big") + b"\x80" + payload)
        if index and index * frame_ms % 30000 == 0:
            block = (
                CLUSTER.to_bytes(4, "big")
                + b"\x01\xff\xff\xff\xff\xff\xff\xff"
                + element(TIMECODE, (index * frame_ms).to_bytes(4, "big"))
                + block
            )
        chunks.append(header + block if index == 0 else block)
    return chunks
