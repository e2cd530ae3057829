"""Fixtures for the portal's browser tests: one headless Chromium per test session, one page per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _browser import CHROMIUM_FLAGS, chromium_path, static_server
from playwright.sync_api import Browser, Page, Playwright, sync_playwright


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """The test static server (portal ``static/`` at ``/``, test pages at ``/test/``)."""
    with static_server() as url:
        yield url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium (``make install`` installs it); no browser download."""
    executable = chromium_path()
    if executable is None:
        pytest.fail("chromium is not installed: run 'make install' (it installs Debian's chromium package)")
    browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A blank page of the test server, shared by a module's tests (they import modules into it)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}/test/blank.html")
    yield page
    context.close()
