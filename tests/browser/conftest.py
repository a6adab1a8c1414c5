"""Real-browser tests: the product served by daphne with a job worker, driven by Chromium.

The stack runs as in production, on the test database: ``daphne`` (HTTP and
WebSockets) and ``manage.py procrastinate worker`` as subprocesses, a fake ODK
Central in this process, and the system's Chromium (``/usr/bin/chromium``)
through Playwright (no browser download). Data is committed, so each test
cleans up after itself. Screenshots go to ``tests/artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
BASE_DOMAIN = "publishmdm.localhost"

CHROMIUM_MISSING = (
    f"Chromium is not installed at {CHROMIUM} (apt-get install chromium, or set "
    "CHROMIUM_PATH); only the browser tests are skipped."
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Without Chromium, mark every browser test skipped, whatever the selection.

    A marker (not a skip raised while this file loads) leaves collection
    intact, so ``pytest tests/browser``, one file or one test id all end in a
    clean skip with the reason in the summary, and no fixture here ever runs.
    """
    if CHROMIUM.exists():
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.skip(reason=CHROMIUM_MISSING))


from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.fakes.central.server import FakeCentral  # noqa: E402
from tests.plugin import child_process_env  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The running product: its address, its mailbox and the fake Central behind it."""

    def __init__(self, port: int, central: FakeCentral, mail_dir: Path, logs: Path):
        self.port = port
        self.central = central
        self.mail_dir = mail_dir
        self.logs = logs
        self.processes: list[subprocess.Popen] = []

    @property
    def base(self) -> str:
        return f"http://{BASE_DOMAIN}:{self.port}"

    def org(self, slug: str, path: str = "/") -> str:
        return f"http://{slug}.{BASE_DOMAIN}:{self.port}{path}"

    def mails(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.mail_dir.glob("*.log")))


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def _wait_until_up(port: int, process: subprocess.Popen, log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(  # noqa: S310 - our own local server
        f"http://127.0.0.1:{port}/healthz", headers={"Host": BASE_DOMAIN}
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(request, timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"daphne did not answer in {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    central = FakeCentral().start()
    central.latency = 0.15  # a run takes a few seconds: long enough to watch it live
    port = _free_port()
    mail_dir = Path(tempfile.mkdtemp(prefix="pmdm-mail-"))
    env = child_process_env(
        PUBLIC_PORT=str(port),
        CENTRAL_ALLOWED_INTERNAL_HOSTS=central.base_url.split("://", 1)[1],
        CENTRAL_ALLOW_HTTP="true",
        EMAIL_URL=f"filemail:///{mail_dir}",
        LOG_LEVEL="WARNING",
    )
    made = Stack(port, central, mail_dir, ARTIFACTS)
    web_log, worker_log = ARTIFACTS / "daphne.log", ARTIFACTS / "worker.log"
    web = _start(
        [
            sys.executable,
            "-m",
            "control_plane.runtime.server",  # daphne with the body limits, as serve runs it
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "control_plane.asgi:application",
        ],
        env,
        web_log,
    )
    worker = _start([sys.executable, "manage.py", "procrastinate", "worker"], env, worker_log)
    made.processes = [web, worker]
    try:
        _wait_until_up(port, web, web_log)
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{worker_log.read_text()[-3000:]}")
        yield made
    finally:
        for process in made.processes:
            if process.poll() is None:
                process.terminate()
        for process in made.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        central.stop()
        shutil.rmtree(mail_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests
    # make between browser steps are still plain synchronous ones.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launch()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launch():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                f"--host-resolver-rules=MAP *.{BASE_DOMAIN} 127.0.0.1, MAP {BASE_DOMAIN} 127.0.0.1",
            ],
        )
        yield launched
        launched.close()
        # ORM calls made while Playwright's loop runs get connections of their own context;
        # close them here, or the test database could not be dropped at the end.
        connections.close_all()
    connections.close_all()


class Watch:
    """Console errors and CSP violations seen by a page (there must be none)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.expected: list[str] = []

    def expect(self, text: str) -> None:
        """A console error the test provokes on purpose (e.g. a 403 it asserts)."""
        self.expected.append(text)

    def attach(self, page: Page) -> Page:
        def on_console(message):
            if message.type == "error" and not any(t in message.text for t in self.expected):
                self.problems.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: {error}"))
        return page


@pytest.fixture
def watch():
    return Watch()


@pytest.fixture
def new_page(browser, watch):
    """``new_page(**context options)`` → a page in a fresh browser context."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 860})
        options.setdefault("accept_downloads", True)
        context = browser.new_context(**options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return watch.attach(context.new_page())

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def check_accessibility(page: Page, label: str) -> None:
    """axe-core on the current page: no serious or critical violation (WCAG 2 A/AA)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's CSP does not apply.
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
              runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
              resultTypes: ['violations'],
            });
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    assert result == [], f"{label}: " + json.dumps(result, indent=1)
