"""Detectors: pure, deterministic functions from text to signals with spans and confidence.

`inline.detect(text)` runs the cheap ones on every post; each module holds one family.
"""
