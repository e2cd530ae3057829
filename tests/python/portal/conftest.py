"""Fixtures for the portal's browser tests: one headless Chromium per test session, one page per module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _browser import CHROMIUM_FLAGS, chromium_path, static_server
from _wallet import TestWallet
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

WALLET_KEY = bytes.fromhex("11" * 32)
"""The test wallet's default account key (the crypto vectors' "patient")."""


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


@pytest.fixture(scope="module")
def wallet_session(browser: Browser) -> Iterator[tuple[Page, TestWallet]]:
    """One browser context with a test wallet installed, and its page, shared by a module's tests."""
    context = browser.new_context()
    wallet = TestWallet(WALLET_KEY)
    wallet.install(context)
    page = context.new_page()
    yield page, wallet
    context.close()


@pytest.fixture
def wallet_page(
    wallet_session: tuple[Page, TestWallet], base_url: str
) -> Callable[..., tuple[Page, TestWallet]]:
    """Opens ``path`` (a blank page by default) with the shared test wallet reset, then changed by keywords.

    ``wallet_page("/test/wallet.html", chain_id=1, reject={"eth_signTypedData_v4"})``: the page loads afresh
    (no connection remembered in the page) and the wallet starts unconnected with an empty request log.
    """
    page, wallet = wallet_session

    def _open(path: str = "/test/blank.html", **changes: Any) -> tuple[Page, TestWallet]:
        wallet.reset(**changes)
        page.goto(base_url + path)
        return page, wallet

    return _open
