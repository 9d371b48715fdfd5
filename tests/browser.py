"""Headless Chromium for the tests that look at a page as a reader would (the report, the
documentation site): Debian's chromium and chromium-driver, driven by Selenium.  Where
either is missing the test is skipped, saying why (``make browser`` installs them)."""

import contextlib
import shutil

import pytest

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def chromium(width: int = 1200, height: int = 1600):
    """A generator for a module fixture: yields a headless driver that keeps the page's
    console log (``driver.get_log("browser")``), and quits it afterwards."""
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed (make test "
                    "installs them where apt is usable)")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium (the test extra) is not installed")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver) -> list:
    """The page's console messages of level SEVERE or ERROR since the last call."""
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def broken_images(driver) -> list:
    """(src, complete, naturalWidth) of each picture of the page that did not load."""
    sizes = driver.execute_script(
        "return Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth]);")
    return [s for s in sizes if not (s[1] and s[2] > 0)]


headless_chromium = contextlib.contextmanager(chromium)   # ``with headless_chromium() as d:``
