"""The incidents page in a real browser (Debian's chromium driven by Selenium), served by
the real app: reports side by side, conflicts marked, timelines drawn, evidence linked."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from evals.bench.fake_llm import FakeLLM, tool_call
from tests.incident_articles import ARTICLES, facts
from tests.test_incidents_api import ORDER, body


def _binaries() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    )
    if browser is None or driver is None:
        message = "no chromium and chromedriver here: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; under CI a missing browser fails")
        pytest.skip(message)
    return browser, driver


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    yield chrome
    chrome.quit()


def test_the_page_shows_reports_side_by_side_conflicts_timelines_and_evidence(
    start_service: Callable[..., httpx2.Client], fake_llm: FakeLLM, tmp_path: Path,
    browser: object,
) -> None:  # fmt: skip
    from selenium.webdriver.common.by import By

    for article_id in ORDER:
        fake_llm.script.append(tool_call(facts(article_id)))
    service = start_service(db_url=f"sqlite:///{tmp_path / 'store.db'}")
    assert service.post("/articles", json=body(*ORDER)).status_code == 200
    page = browser  # type: ignore[assignment]
    page.get(str(service.base_url).rstrip("/") + "/incidents/view")  # type: ignore[attr-defined]
    sections = page.find_elements(By.CSS_SELECTOR, "section.incident")  # type: ignore[attr-defined]
    assert len(sections) == 2
    [marked] = page.find_elements(By.CSS_SELECTOR, "section.incident.has-conflict")  # type: ignore[attr-defined]
    assert "Englewood" in marked.find_element(By.TAG_NAME, "h2").text
    rows = marked.find_elements(By.CSS_SELECTOR, "tr.report")
    assert [r.find_element(By.TAG_NAME, "td").text for r in rows] == [
        "suntimes.example",
        "wgntv.example",
        "tribune.example",
    ]  # by date, then source
    conflicted = marked.find_elements(By.CSS_SELECTOR, "td.conflict")
    assert sorted(c.text for c in conflicted) == ["4", "6"]  # the two same-day injured counts
    houston = page.find_element(
        By.CSS_SELECTOR, 'figure.timeline[data-place="Houston"][data-measure="killed"]'
    )  # type: ignore[attr-defined]
    assert houston.find_elements(By.CSS_SELECTOR, "polyline.series-line")
    assert len(houston.find_elements(By.CSS_SELECTOR, "circle.total-point")) == 2
    assert len(houston.find_elements(By.CSS_SELECTOR, "circle.incident-point")) == 1
    link = marked.find_element(By.CSS_SELECTOR, "a.evidence-link")
    evidence = link.get_attribute("title")
    link.click()
    target = page.find_element(By.CSS_SELECTOR, ".evidence:target")  # type: ignore[attr-defined]
    assert target.is_displayed()
    assert target.find_element(By.TAG_NAME, "mark").text == evidence
    assert any(evidence in a["text"] for a in ARTICLES.values())
