"""Browser tests: Playwright drives the system Chromium against pytest-django's live server.

Fixtures:
  ``browser``    one Chromium for the whole run (browsers cannot be downloaded here: see
                 scripts/ensure_chromium.sh).
  ``page``       a fresh browser context per test, with the site's CSP enforced; a CSP violation
                 or an uncaught script error on any page fails the test.
  ``axe_check``  ``axe_check(page)`` fails on any WCAG 2.0/2.1 A or AA violation found by axe-core.
  ``axe_page``   a page whose context bypasses the CSP (so axe-core can be injected as it is), for
                 states that a reload would lose, such as a form showing its errors.
  ``district``, ``team_member``, ``team_leader``: fictitious test data (btam.testing).

Each test gets an empty database (``transactional_db``: the live server runs in another thread),
an empty cache (rate limits and used TOTP codes live there) and a fast password hasher.
A failed test leaves a screenshot in e2e/artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import re
import weakref
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from btam.accounts.models import Role, User
from btam.orgs.models import District
from btam.testing import DistrictFactory, SchoolFactory, make_member

# Playwright's sync API runs an asyncio event loop in this thread; Django refuses database work in
# a thread with a running loop unless told it is safe. It is: the loop only drives the browser.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 10_000

AxeCheck = Callable[[Page], None]

# Contexts made with bypass_csp=True: axe-core can be injected into their pages directly.
_CSP_BYPASSED: weakref.WeakSet[BrowserContext] = weakref.WeakSet()


@dataclass
class BrowserLog:
    """What the browser reported while a test ran."""

    csp_violations: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)  # includes "Failed to load resource: 403"

    def watch(self, page: Page) -> None:
        page.on("console", lambda message: self._on_console(page, message))
        page.on("pageerror", lambda error: self.script_errors.append(f"{page.url}: {error}"))

    def _on_console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = f"{page.url}: {message.text}"
        if "Content Security Policy" in message.text:
            self.csp_violations.append(text)
        else:
            self.console_errors.append(text)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"btam_report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    report = getattr(request.node, "btam_report_call", None)
    return report is None or report.failed


def _screenshot(page: Page, request: pytest.FixtureRequest, suffix: str = "") -> Path | None:
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid) + suffix
    path = ARTIFACTS / f"{name}.png"
    try:
        page.screenshot(path=path, full_page=True)
    except Exception:  # a screenshot must never hide the real failure
        return None
    return path


@pytest.fixture(scope="session")
def browser(live_server: LiveServer) -> Iterator[Browser]:
    # Depends on the live server so that it closes first: a browser closing its keep-alive
    # connections after the server stopped sharing the test database makes the server's threads fail.
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM}. Install the Debian package 'chromium' "
            "(`make chromium` does it when run as root). Never `playwright install`: downloads are blocked.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _fresh_state(transactional_db: None, settings: Settings) -> None:
    """An empty cache, and a fast password hasher: Argon2 costs a quarter second per account and
    per sign-in, and what these tests check is the browser's path, not the hash."""
    cache.clear()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _new_context(browser: Browser, base_url: str, *, bypass_csp: bool = False) -> BrowserContext:
    context = browser.new_context(base_url=base_url, locale="en-US", bypass_csp=bypass_csp)
    context.set_default_timeout(TIMEOUT_MS)
    if bypass_csp:
        _CSP_BYPASSED.add(context)
    return context


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(
    browser: Browser, live_server: LiveServer, browser_log: BrowserLog, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page in a fresh context (no cookies), CSP enforced, addresses relative to the live server."""
    context = _new_context(browser, live_server.url)
    page = context.new_page()
    browser_log.watch(page)
    yield page
    if _failed(request):
        path = _screenshot(page, request)
        if path:
            print(f"Screenshot of the failed test: {path}")
    context.close()
    if not _failed(request):
        problems = browser_log.csp_violations + browser_log.script_errors
        assert not problems, "The browser reported CSP violations or script errors:\n" + "\n".join(problems)


@pytest.fixture
def axe_page(browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context made with bypass_csp=True. Use ``page`` for everything else."""
    context = _new_context(browser, live_server.url, bypass_csp=True)
    page = context.new_page()
    yield page
    if _failed(request):
        _screenshot(page, request)
    context.close()


def _require_axe() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci` (or `make assets`).", pytrace=False)
    return str(AXE_JS)


def _format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core found {len(violations)} accessibility violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} <{v.get('helpUrl', '')}>")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
    return "\n".join(lines)


@pytest.fixture
def axe_check(browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[AxeCheck]:
    """``axe_check(page)``: run axe-core (WCAG 2.0/2.1 A and AA) on the page; fail on any violation.

    axe-core is injected with a script tag, which the site's CSP forbids. A page whose context was
    made with bypass_csp=True (``axe_page``) is checked as it is. Any other page is loaded again in
    a bypass_csp context (a GET of the same URL with the same cookies, so in the same session: a
    page that changes state on GET, like the TOTP enrolment page's new secret, changes it again).
    """
    axe_js = _require_axe()
    mirror: list[Page] = []  # one bypass_csp page per test, reused

    def check(page: Page) -> None:
        target = page
        if page.context not in _CSP_BYPASSED:
            if not mirror:
                mirror.append(_new_context(browser, live_server.url, bypass_csp=True).new_page())
            target = mirror[0]
            target.context.clear_cookies()
            target.context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
            target.goto(page.url)
        target.add_script_tag(path=axe_js)
        results = target.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            AXE_TAGS,
        )
        violations = results["violations"]
        if violations:
            path = _screenshot(target, request, suffix="-axe")
            message = _format_violations(target.url, violations)
            pytest.fail(message + (f"\nScreenshot: {path}" if path else ""), pytrace=False)

    yield check
    if mirror:
        mirror[0].context.close()


# Test data ------------------------------------------------------------------------------------


@pytest.fixture
def district(transactional_db: None) -> District:
    district = DistrictFactory.create(name="Cedar Test District (fictitious)")
    SchoolFactory.create(district=district, name="North Test High")
    SchoolFactory.create(district=district, name="South Test Middle")
    return district


@pytest.fixture
def team_member(district: District) -> User:
    return make_member(Role.TEAM_MEMBER, district, full_name="Robin Member")


@pytest.fixture
def team_leader(district: District) -> User:
    return make_member(Role.TEAM_LEADER, district, full_name="Jordan Leader")


PageMaker = Callable[..., Page]


@pytest.fixture(autouse=True)
def _own_media(settings: Settings, tmp_path: Path) -> None:
    """Files a test stores (attachments, documents) go to its own folder (still through the
    encrypting storage), never var/media."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "btam.lib.encrypted.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def new_page(
    browser: Browser, live_server: LiveServer, browser_log: BrowserLog, request: pytest.FixtureRequest
) -> Iterator[PageMaker]:
    """``new_page(**context_options)``: a page in a fresh context of its own (another person, another
    device), with the site's CSP enforced; CSP violations and script errors fail the test, as with
    ``page``."""
    pages: list[Page] = []

    def make(**options: Any) -> Page:
        options.setdefault("locale", "en-US")
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        browser_log.watch(page)
        pages.append(page)
        return page

    yield make
    report = getattr(request.node, "btam_report_call", None)
    failed = report is None or report.failed
    for number, page in enumerate(pages):
        if failed:
            shots = Path(__file__).resolve().parent / "artifacts"
            shots.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            with contextlib.suppress(Exception):  # a screenshot must never hide the real failure
                page.screenshot(path=shots / f"{name}-page{number}.png", full_page=True)
        page.context.close()
    if not failed:
        problems = browser_log.csp_violations + browser_log.script_errors
        assert not problems, "The browser reported CSP violations or script errors:\n" + "\n".join(problems)
