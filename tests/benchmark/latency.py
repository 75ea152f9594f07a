"""Page latency under load: closed-loop clients (no think time), each logged in with its own
session, cycling through the pages of its role; p50/p95/p99 per page.

The clients share the server's cores, so their own cost is kept small: they log in with
requests, then send their pages over one keep-alive `http.client` connection each (a third of
requests' CPU per request), reading every response in full and keeping the cookies it sets.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from sqlalchemy import Engine, func, select

from common.enums import Role
from portal.demo.generator import DEMO_PASSWORDS
from portal.models import Dealer, VehicleOrder

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HQ_PAGES = {"hq_dashboard": "/", "hq_rollups": "/rollups/", "hq_benchmark": "/benchmark",
            "hq_scorecard_of_dealer": "/scorecard/{code}"}
DEALER_PAGES = {"dealer_dashboard": "/", "order_list": "/orders", "order_detail": "/orders/{order}",
                "scorecard": "/scorecard", "lead_list": "/leads/", "customer_list": "/customers/"}
# the pages DESIGN §10 sets targets for; the others are measured and shown as extras
DEALER_TARGET_PAGES = ("dealer_dashboard", "order_list", "order_detail", "scorecard")
HQ_TARGET_PAGES = ("hq_rollups", "hq_benchmark", "hq_scorecard_of_dealer")


@dataclass
class Latency:
    clients: int
    seconds: float = 0.0
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    server_cpu_s: float = 0.0

    def percentile(self, page: str, q: float) -> float:
        return percentile(self.samples[page], q)

    @property
    def requests(self) -> int:
        return sum(map(len, self.samples.values()))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of *values*."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Client:
    username: str
    password: str
    pages: dict[str, str]


def clients(engine: Engine, count: int, hq_share: float = 0.3) -> list[Client]:
    """Dealer managers of dealers spread over the dataset (those with orders), and HQ users."""
    hq = max(1, round(count * hq_share))
    with engine.connect() as conn:
        with_orders = conn.execute(
            select(Dealer.code, func.min(VehicleOrder.number)).join(
                VehicleOrder, VehicleOrder.dealer_id == Dealer.id)
            .group_by(Dealer.code).order_by(Dealer.code)).all()
    step = max(1, len(with_orders) // max(1, count - hq))
    picked = with_orders[::step][:count - hq]
    result = [Client(f"{code.lower()}.manager", DEMO_PASSWORDS[Role.dealer_manager],
                     {k: v.format(order=number) for k, v in DEALER_PAGES.items()})
              for code, number in picked]
    for i in range(count - len(result)):
        code = with_orders[(i * 7) % len(with_orders)][0]
        result.append(Client("hq", DEMO_PASSWORDS[Role.hq],
                             {k: v.format(code=code) for k, v in HQ_PAGES.items()}))
    return result


def login(base_url: str, client: Client) -> requests.Session:
    session = requests.Session()
    session.headers["Accept-Language"] = "zh-CN,zh;q=0.9"
    token = _CSRF.search(session.get(base_url + "/login", timeout=30).text)
    response = session.post(base_url + "/login", timeout=30, data={
        "username": client.username, "password": client.password,
        "csrf_token": token.group(1) if token else ""})
    if response.status_code != 200 or response.url.rstrip("/").endswith("/login"):
        raise RuntimeError(f"{client.username} could not log in ({response.status_code})")
    return session


def measure(base_url: str, users: list[Client], *, seconds: float,
            server_cpu: Callable[[], float] = lambda: 0.0, processes: int = 4) -> Latency:
    """Run every client for *seconds* (after a warm-up round each) and collect the samples.

    The clients are spread over *processes* load processes, a thread each: in one process
    their Python would share one interpreter lock, and a response that had arrived would wait
    for it, measured as the server's time.
    """
    result = Latency(clients=len(users))
    numbered = list(enumerate(users))  # the number sets where a client starts its round
    groups = [numbered[i::processes] for i in range(min(processes, len(users)))]
    context = multiprocessing.get_context("spawn")  # no inherited threads or connections
    start, stop, answers = context.Barrier(len(groups) + 1), context.Event(), context.Queue()
    workers = [context.Process(target=_load_process, daemon=True,
                               args=(base_url, group, start, stop, answers))
               for group in groups]
    for worker in workers:
        worker.start()
    try:
        start.wait(timeout=600)
    except threading.BrokenBarrierError:
        stop.set()
        raise RuntimeError(f"a load process failed: {answers.get(timeout=10)}") from None
    began, cpu = time.perf_counter(), server_cpu()
    time.sleep(seconds)
    stop.set()
    result.seconds = time.perf_counter() - began
    result.server_cpu_s = server_cpu() - cpu
    for _ in workers:
        samples, errors = answers.get(timeout=120)
        for name, values in samples.items():
            result.samples[name].extend(values)
        result.errors.extend(errors)
    for worker in workers:
        worker.join(timeout=30)
    return result


def _load_process(base_url: str, users: list[tuple[int, Client]], start, stop,
                  answers) -> None:
    """One load process: its clients log in, warm up, wait for the others, then loop."""
    result = Latency(clients=len(users))
    try:
        sessions = [login(base_url, user) for _, user in users]
        ready = threading.Barrier(len(users) + 1)
        threads = [threading.Thread(target=_loop, args=(base_url, u, s, n, ready, stop, result))
                   for (n, u), s in zip(users, sessions, strict=True)]
        for thread in threads:
            thread.start()
        ready.wait()
        start.wait(timeout=600)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which stops the run
        start.abort()
        answers.put(repr(error))
        return
    for thread in threads:
        thread.join()
    for session in sessions:
        session.close()
    answers.put((dict(result.samples), result.errors))


class Browser:
    """One keep-alive connection carrying a logged-in session's cookies, as a browser tab would."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        address = urlsplit(base_url)
        self._connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        self._cookies = {c.name: c.value for c in session.cookies}
        # the same headers as at login: the session is bound to the browser's User-Agent
        self._headers = {k: session.headers[k] for k in ("User-Agent", "Accept-Language")}

    def get(self, path: str) -> int:
        """GET *path*, read the whole body, keep any cookie set; the status code."""
        headers = {**self._headers, "Cookie": "; ".join(
            f"{name}={value}" for name, value in self._cookies.items() if value)}
        try:
            self._connection.request("GET", path, headers=headers)
            response = self._connection.getresponse()
        except (http.client.HTTPException, OSError):
            self._connection.close()  # the server closed an idle connection: reconnect once
            self._connection.request("GET", path, headers=headers)
            response = self._connection.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, value = header.split(";", 1)[0].partition("=")
            self._cookies[name.strip()] = value.strip()
        return response.status

    def close(self) -> None:
        self._connection.close()


def _loop(base_url: str, user: Client, session: requests.Session, offset: int,
          ready: threading.Barrier, stop, result: Latency) -> None:
    pages = list(user.pages.items())
    browser = Browser(base_url, session)
    for _name, path in pages:  # warm-up round, not counted
        browser.get(path)
    ready.wait()
    n = offset
    while not stop.is_set():
        name, path = pages[n % len(pages)]
        n += 1
        began = time.perf_counter()
        status = browser.get(path)
        elapsed = time.perf_counter() - began
        if stop.is_set():
            break  # finished after the window closed: not counted
        if status == 200:
            result.samples[name].append(elapsed)  # list.append is atomic under the GIL
        else:
            result.errors.append(f"{user.username} {path}: {status}")
    browser.close()
