"""The atlas of the committed example report, opened in headless Chromium as a person would."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rckit.conformance.outputs.atlas import load_report, merge, render

from tests import browser

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "example-report.json"
#: Another report to open instead (the kit's tests use the committed example).
REPORT = Path(os.environ.get("RCKIT_ATLAS_REPORT", EXAMPLE))

pytestmark = pytest.mark.skipif(browser.missing() is not None, reason=f"no browser here: {browser.missing()}")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("atlas") / "atlas.html"
    path.write_text(render(merge([(str(REPORT), load_report(REPORT))])))
    return path


@pytest.fixture(scope="module")
def driver(page: Path) -> Iterator[Any]:
    chromium = browser.chromium()
    chromium.get(page.as_uri())
    yield chromium
    chromium.quit()


def _displayed_columns(driver: Any) -> list[int]:
    from selenium.webdriver.common.by import By

    return [
        int(td.get_attribute("data-c"))
        for td in driver.find_elements(By.CSS_SELECTOR, "#grid tbody tr:first-child td")
        if td.is_displayed()
    ]


def test_it_opens_from_a_file_without_console_errors(driver: Any) -> None:
    columns = len(json.loads(REPORT.read_text())["candidates"])
    assert len(_displayed_columns(driver)) == columns
    assert browser.console_errors(driver) == []


def test_filtering_to_one_platform_hides_the_other_columns(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    data = json.loads(driver.find_element(By.ID, "atlas-data").get_attribute("textContent"))
    platforms = sorted({c["platform"] for c in data["columns"]})
    if len(platforms) < 2:
        pytest.skip(f"the report has one platform only ({platforms})")
    wanted = "linux-x86_64-glibc" if "linux-x86_64-glibc" in platforms else platforms[0]
    driver.find_element(By.CSS_SELECTOR, 'button[data-none="platform"]').click()
    driver.find_element(By.CSS_SELECTOR, f'input[name="platform"][value="{wanted}"]').click()
    shown = _displayed_columns(driver)
    assert shown and all(data["columns"][i]["platform"] == wanted for i in shown)
    assert len(shown) == sum(c["platform"] == wanted for c in data["columns"])
    driver.find_element(By.CSS_SELECTOR, 'button[data-all="platform"]').click()
    assert len(_displayed_columns(driver)) == len(data["columns"])


def test_a_cell_opens_its_evidence(driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    cell = next(iter(driver.find_elements(By.CSS_SELECTOR, "td.s-xfail, td.s-fail")), None)
    if cell is None:
        pytest.skip("the report has no failure or known deviation to open")
    rule = cell.find_element(By.XPATH, "..").get_attribute("data-rule")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'});", cell)
    cell.click()
    panel = driver.find_element(By.ID, "panel")
    assert panel.is_displayed()
    text = panel.text
    assert rule in text and "python -m rckit.conformance repro" in text
    assert "Known deviation:" in text or "Assertion:" in text
    shot = tmp_path / "atlas.png"
    driver.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    driver.find_element(By.CSS_SELECTOR, "#panel .close").click()
    assert not panel.is_displayed()


def test_a_rule_opens_its_statement_and_sources(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, 'th.rule[data-rule="LIMITS.GET_PAIR"]').click()
    text = driver.find_element(By.ID, "panel").text
    assert "LIMITS.GET_PAIR" in text and "Sources" in text and "test_limits_get" in text
    driver.find_element(By.CSS_SELECTOR, "#panel .close").click()


def test_can_i_rely_on_it_lists_what_holds_and_what_breaks(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "tab-rely").click()
    text = driver.find_element(By.ID, "rely").text
    assert "rules hold on every one of them" in text and "rules break somewhere" in text
    where = driver.find_elements(By.CSS_SELECTOR, "#rely a[data-cell]")
    if where:  # the second click: where a rule breaks opens why
        rule = where[0].get_attribute("data-cell").split("|")[0]
        where[0].click()
        assert rule in driver.find_element(By.ID, "panel").text
        driver.find_element(By.CSS_SELECTOR, "#panel .close").click()
    assert browser.console_errors(driver) == []
    driver.find_element(By.ID, "tab-grid").click()


def test_a_column_opens_its_interpreter_and_where_it_deviates(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    header = driver.find_element(By.CSS_SELECTOR, "th.col")
    driver.execute_script("document.querySelector('.grid-wrap').scrollLeft = 0;")
    header.click()
    text = driver.find_element(By.ID, "panel").text
    assert "interpreter" in text and "machine" in text
    driver.find_element(By.CSS_SELECTOR, "#panel .close").click()
