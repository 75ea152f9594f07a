"""Browser tests: a live portal on loopback and headless Chromium through Playwright.

Fixtures for every browser suite (mark tests with ``@pytest.mark.browser``):

- ``live_server`` (module): a fresh migrated SQLite database, the app built with
  CSRF **on**, served by werkzeug in a background thread on 127.0.0.1 (free port).
  ``live_server.url``, ``live_server.app``; arrange data with ``live_server.session()``
  (a system session seeing every dealer) or ``make_dealer()`` / ``make_user(role, ...)``.
- ``browser`` (session): Debian's Chromium (``CHROMIUM_PATH``), headless.
- ``page`` (function): a fresh context (cookies, locale zh-CN) per test.
- ``login_as(page, user)``: logs in through the real form; users get ``PASSWORD``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import Session
from werkzeug.serving import WSGIRequestHandler, make_server

from common.enums import Role
from portal.models import Dealer, Region, User
from portal.services.users import create_user
from portal.tenancy import Scope, set_scope
from tests.conftest import PASSWORD, make_test_app

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
_counter = itertools.count()


class _QuietHandler(WSGIRequestHandler):
    def log(self, *args) -> None:  # request logs would only clutter failing-test output
        pass


class LiveServer:
    """The running portal, and small helpers to arrange data for it."""

    def __init__(self, app) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True,
                                   request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self.app.extensions["db_engine"].dispose()
        assert not self._thread.is_alive(), "the live server thread did not stop"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session seeing every dealer; commit what you arrange."""
        engine = self.app.extensions["db_engine"]
        with set_scope(Session(engine, expire_on_commit=False), Scope.everything("test")) as s:
            yield s

    def make_dealer(self, name_zh: str = "浦东经销商", name_en: str = "Pudong Motors") -> Dealer:
        n = next(_counter)
        with self.session() as s:
            region = Region(code=f"BR{n}", name_zh="华东", name_en="East")
            s.add(region)
            s.flush()
            dealer = Dealer(code=f"BD{n:03d}", name_zh=name_zh, name_en=name_en,
                            region_id=region.id, city_zh="上海", city_en="Shanghai")
            s.add(dealer)
            s.commit()
            return dealer

    def make_user(self, role: Role = Role.dealer_manager, dealer: Dealer | None = None,
                  display_name: str = "王经理") -> User:
        with self.session() as s:
            user = create_user(session=s, username=f"buser{next(_counter)}", password=PASSWORD,
                               role=role, display_name=display_name,
                               dealer_code=dealer.code if dealer else None)
            s.commit()
            return user


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, sqlite_template) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live")
    shutil.copy(sqlite_template, tmp / "portal.db")
    app = make_test_app(f"sqlite:///{tmp / 'portal.db'}", tmp, WTF_CSRF_ENABLED=True)
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.exists(path):
        pytest.skip(f"Chromium not found at {path} (set CHROMIUM_PATH)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login_as():
    """Log *user* in through the login form (CSRF token included) and wait for the dashboard."""

    def login(page, user: User, password: str = PASSWORD) -> None:
        page.goto("/login")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit].primary")
        page.wait_for_selector("[data-testid=dashboard-title]")

    return login
