"""Debian's chromium, headless, driven by Selenium: for the tests that open a page
(a run's report.html, a course's class.html) in a real browser."""

import contextlib
import shutil

import pytest

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@contextlib.contextmanager
def headless_chromium():
    """A Chrome driver whose console log can be read; skips the test when chromium,
    its driver or selenium is missing (saying which)."""
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed (make test "
                    "installs them where apt is usable)")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium (the test extra) is not installed")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
