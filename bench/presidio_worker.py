"""Runs Microsoft Presidio's analyzer over texts for `bench/presidio.py`, in Presidio's own
virtual environment (never Parvis's: Presidio and spaCy are not Parvis dependencies).

Reads one JSON object from stdin: {"texts": [...], "model": "<spaCy package>"}; writes one
JSON object to stdout: the entity types found per text, the seconds spent analysing (the
engine's loading excluded, one warm-up text first) and the versions used.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from importlib import metadata


def main() -> None:
    request = json.load(sys.stdin)
    # tldextract (Presidio's URL and e-mail recognisers) tries to download the public suffix
    # list once and falls back to its bundled copy; the machine has no internet.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    # Installed in Presidio's own environment only (no stubs, not here for mypy).
    from presidio_analyzer import AnalyzerEngine  # type: ignore[import-not-found]
    from presidio_analyzer.nlp_engine import NlpEngineProvider  # type: ignore[import-not-found]

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": request["model"]}],
        }
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    engine.analyze(text="warm-up: call +1 212 555 0100", language="en")
    found: list[list[list[object]]] = []
    started = time.perf_counter()
    for text in request["texts"]:
        results = engine.analyze(text=text, language="en")
        found.append([[r.entity_type, r.start, r.end, round(r.score, 3)] for r in results])
    seconds = time.perf_counter() - started
    versions = {
        name: metadata.version(name)
        for name in ("presidio-analyzer", "spacy", request["model"].replace("_", "-"))
    }
    json.dump({"found": found, "seconds": seconds, "versions": versions}, sys.stdout)


if __name__ == "__main__":
    main()
