"""Moderation: rulebook, signals, decisions, statements of reasons, notices, appeals."""
