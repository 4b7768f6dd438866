"""Headless Chromium (Debian's chromium and chromium-driver) driven by Selenium, to look at the
atlas as a person would; also ``python -m tests.browser PAGE PNG`` for the screenshot in docs/."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER = ("/usr/bin/chromedriver",)


def missing() -> str | None:
    """Why the browser cannot run here (None when it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not any(Path(p).exists() for p in CHROMIUM) or not any(Path(p).exists() or shutil.which("chromedriver") for p in DRIVER):
        return "Chromium is not installed (apt-get install chromium chromium-driver; .ci/run does)"
    return None


def chromium(width: int = 1600, height: int = 1000) -> Any:
    """A headless Chromium that records the page's console messages."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.binary_location = next(p for p in CHROMIUM if Path(p).exists())
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = next((p for p in DRIVER if Path(p).exists()), None) or shutil.which("chromedriver")
    return webdriver.Chrome(service=Service(driver_path), options=options)


def console_errors(driver: Any) -> list[str]:
    """The page's console messages of level SEVERE (script errors, failed loads)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(page: Path, png: Path) -> None:
    """Open the atlas, open the evidence of a known deviation that has a falsifying example (else
    of the first failure or deviation), save a screenshot."""
    from selenium.webdriver.common.by import By

    driver = chromium()
    try:
        driver.get(page.resolve().as_uri())
        cells = driver.find_elements(By.CSS_SELECTOR, 'tr[data-rule="LIMITS.INVALID_RESOURCE"] td.s-xfail')
        cells = cells or driver.find_elements(By.CSS_SELECTOR, "td.s-xfail, td.s-fail")
        if cells:
            # Scroll the grid, not the window, so the page's header stays in the picture.
            script = "arguments[0].scrollIntoView({block: 'center', inline: 'center'}); window.scrollTo(0, 0);"
            script += " arguments[0].click();"
            driver.execute_script(script, cells[0])
        driver.save_screenshot(str(png))
        errors = console_errors(driver)
    finally:
        driver.quit()
    if errors:
        raise SystemExit(f"console errors: {errors}")


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
