"""Shield: what keeps the square up under floods (rate limits, overload shedding by priority,
slow and oversized clients, the proof-of-work challenge, metrics)."""
