"""Live-room metrics on prometheus-client's default registry (exposed with the others at
/metrics): listeners, waiting line, frames in and out, frame delay and dropped frames, the
heap guard, refused chat lines and hand toggles, and recorded bytes."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LISTENERS = Gauge(
    "parvis_live_listeners", "Connections admitted to a room in this process.", ["room"]
)
WAITING = Gauge("parvis_live_waiting", "Connections in this process's waiting line.")
ADMISSION_RATE = Gauge(
    "parvis_live_admission_rate",
    "Joins per second this process's waiting line lets in now (the configured rate, or less "
    "while the event loop runs late).",
)
ADMITTED = Counter("parvis_live_admitted_total", "Connections let in from the waiting line.")
FRAMES_IN = Counter(
    "parvis_live_frames_received_total",
    "Audio records (init segments and clusters) entering this process's relay.",
)
FRAMES_OUT = Counter(
    "parvis_live_frames_relayed_total", "Audio clusters written to listeners (one per listener)."
)
DROPPED = Counter(
    "parvis_live_dropped_frames_total",
    "Audio clusters not delivered to a listener who was too far behind.",
)
FRAME_DELAY = Histogram(
    "parvis_live_frame_delay_seconds",
    "From a cluster's arrival at the relay of its speaker's process to the end of the write "
    "to the last listener of this process.",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5),
)
HEAP_FREEZES = Counter(
    "parvis_live_heap_freezes_total",
    "Times the live hub moved long-lived objects out of the garbage collector's sight during "
    "joins (see parvis.live.heap).",
)
HEAP_RECLAIMS = Counter(
    "parvis_live_heap_reclaims_total",
    "Times the live hub collected the garbage left by closed connections at a quiet moment.",
)
REFUSED_ACTIONS = Counter(
    "parvis_live_refused_actions_total",
    "Chat lines and hand toggles refused because the account sent too many.",
    ["action"],
)
RECORDED_BYTES = Counter(
    "parvis_live_recorded_bytes_total", "Audio bytes written to room recordings by this process."
)
BUS_UNSENT = Counter(
    "parvis_live_bus_unsent_total",
    "Audio messages not published because Redis was not taking them (over 4 MB waiting).",
)
BUS_DELAY = Histogram(
    "parvis_live_bus_delay_seconds",
    "From a cluster's arrival at the relay of its speaker's process to its arrival in this "
    "process through Redis.",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5),
)
FLUSH_LATENESS = Histogram(
    "parvis_live_flush_lateness_seconds",
    "How late the relay's flushes of a group of listeners ran (event-loop lag as fan-out sees "
    "it: joins, garbage collection or a busy machine).",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
WRITER_QUEUE = Gauge(
    "parvis_live_writer_queue",
    "Batches of listeners waiting for this process's relay writer thread (parvis.live.writer).",
)
WRITER_SHORT = Counter(
    "parvis_live_writer_short_sends_total",
    "Sends the relay writer thread could not complete (a listener's socket buffer full), "
    "handed back to the event loop.",
)
