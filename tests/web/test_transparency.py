"""The public /transparency page and its downloads, over HTTP and in Chromium (screenshot)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from parvis.demo import load_demo
from parvis.runtime import Runtime
from parvis.storage.base import utcnow

ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"


@pytest.fixture
def demo(runtime: Runtime) -> None:
    """The demo community, which includes scenario 1's decisions and appeal."""
    load_demo(runtime)


def test_transparency_page_shows_the_demo_figures_to_anyone(demo: None, client: TestClient) -> None:
    page = client.get("/transparency")
    assert page.status_code == 200
    text = page.text
    assert 'id="figure-decisions_total">4<' in text  # label, block URL, two warnings
    assert 'id="figure-appeals_upheld">1<' in text
    assert "hacked-materials" in text
    assert text.count("<svg") == 5
    assert 'href="/transparency">Transparency</a>' in text  # the footer link
    assert 'name="from"' in text
    assert 'name="to"' in text


def test_period_selector_and_bad_dates(demo: None, client: TestClient) -> None:
    empty = client.get("/transparency?from=2020-01-01&to=2020-12-31")
    assert empty.status_code == 200
    assert 'id="figure-decisions_total">0<' in empty.text
    bad = client.get("/transparency?from=2026-02-31")
    assert bad.status_code == 422
    assert "from must be a date written YYYY-MM-DD" in bad.text


def test_downloads_in_every_format(demo: None, client: TestClient) -> None:
    today = utcnow().date().isoformat()
    query = f"?from={today}&to={today}"
    as_csv = client.get(f"/transparency/report.csv{query}")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {"section": "decisions", "table": "", "row": "decisions_total", "column": "",
            "value": "4"} in rows  # fmt: skip
    assert client.get(f"/transparency/report.json{query}").json()["period"]["to"] == today
    assert client.get(f"/transparency/report.md{query}").text.startswith("# Transparency report")
    html = client.get(f"/transparency/report.html{query}")
    assert "<style>" in html.text
    assert "<svg" in html.text
    refused = client.get("/transparency/report.xlsx")
    assert refused.status_code == 422


@pytest.mark.browser
@pytest.mark.parametrize(("label", "width"), [("desktop", 1280), ("phone", 375)])
def test_transparency_page_in_chromium(
    demo: None, browser: Any, live_server: str, label: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/")
    page.click("footer >> text=Transparency")
    page.wait_for_selector("h1 >> text=Transparency report")
    assert page.locator("svg.chart").count() == 5
    assert page.locator("#figure-decisions_total").inner_text() == "4"
    page.fill("#from", "2020-01-01")
    page.fill("#to", "2020-12-31")
    page.click("form.report-period button[type=submit]")
    page.wait_for_url("**/transparency?from=2020-01-01&to=2020-12-31")
    assert page.locator("#figure-decisions_total").inner_text() == "0"
    page.goto(f"{live_server}/transparency")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"transparency-{label}.png"), full_page=True)
    assert overflow <= 0, f"/transparency scrolls sideways by {overflow}px at {width}px"
    context.close()
