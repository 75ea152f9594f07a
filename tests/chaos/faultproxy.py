"""A fault-injecting HTTP/1.1 proxy on loopback, for chaos tests of any HTTP client and server.

It sits between clients and one upstream server and, per request, under a seeded RNG and
configurable rates, does one of:

- ``drop``: reads the request and closes the connection without forwarding it;
- ``delay``: waits a random while, then forwards normally;
- ``cut_request``: forwards only part of the request, then closes both sides;
- ``cut_response``: forwards the request, relays only part of the answer, then closes;
- ``swallow``: forwards the request (so the server applies it) and closes without answering
  (the "lost response");
- ``error_5xx``: answers 502 or 503 itself with a short body, never reaching the server.

It works at the byte level (it only frames requests and responses by their headers), so it
knows nothing of the clients or the server. Each listener is a separate loopback port with a
name, so a test can tell clients apart (one listener per client) and can hold back a
request's answer on one listener (:meth:`FaultProxy.hold_next`) to act at that very moment,
e.g. kill the client after the server applied its request but before the client heard back. Every
fault is counted by type, answers by status and the outcomes of sync pushes by outcome.

The proxy runs an asyncio loop in a daemon thread, binds loopback only, and stops by itself
after ``max_seconds``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields

FAULTS = ("drop", "delay", "cut_request", "cut_response", "swallow", "error_5xx")
HEAD_LIMIT = 64 * 1024
UPSTREAM_TIMEOUT = 60.0
PUSH_PATH = "/sync/push"


@dataclass(frozen=True)
class FaultRates:
    """The probability of each fault per request (at most one fault per request)."""

    drop: float = 0.0
    delay: float = 0.0
    cut_request: float = 0.0
    cut_response: float = 0.0
    swallow: float = 0.0
    error_5xx: float = 0.0
    max_delay: float = 1.0  # seconds; a delay is uniform in [0.05, max_delay]

    def __post_init__(self) -> None:
        total = sum(getattr(self, name) for name in FAULTS)
        if any(getattr(self, name) < 0 for name in FAULTS) or total > 1:
            raise ValueError(f"fault rates must be >= 0 and add up to at most 1 (got {total})")

    @classmethod
    def chaos(cls, level: float = 1.0) -> FaultRates:
        """A mix of every fault, about 30 % of requests at level 1."""
        return cls(drop=0.05 * level, delay=0.08 * level, cut_request=0.03 * level,
                   cut_response=0.04 * level, swallow=0.06 * level, error_5xx=0.05 * level)

    def pick(self, rng: random.Random) -> str | None:
        roll = rng.random()
        for name in FAULTS:
            roll -= getattr(self, name)
            if roll < 0:
                return name
        return None


CALM = FaultRates()


@dataclass
class Hold:
    """The next answer on a listener to a request that *when* accepts is held.

    ``reached`` is set once the server has answered it; ``body`` is then the request's body.
    """

    when: Callable[[str, bytes], bool]
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    body: bytes = b""

    def release(self) -> None:
        self.released.set()


@dataclass
class Stats:
    """What the proxy did, by kind (a snapshot is a plain copy)."""

    faults: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)  # answers relayed or swallowed, by status
    push_outcomes: Counter = field(default_factory=Counter)  # per record, as the server answered
    requests: int = 0
    connections: int = 0
    upstream_down: int = 0  # requests the server could not be reached for (not injected)

    def copy(self) -> Stats:
        return Stats(**{f.name: (Counter(v) if isinstance(v := getattr(self, f.name), Counter)
                                 else v) for f in fields(self)})


@dataclass
class _Message:
    """One request or answer: ``head + body`` is relayed as received."""

    head: bytes
    body: bytes
    start_line: str
    headers: dict[str, str]
    decoded: bytes | None = None  # the body of a chunked answer without its framing

    @property
    def content(self) -> bytes:
        return self.body if self.decoded is None else self.decoded

    @property
    def raw(self) -> bytes:
        return self.head + self.body

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


class FaultProxy:
    """See the module docstring. Use as a context manager or call start() and stop()."""

    def __init__(self, upstream_port: int, *, upstream_host: str = "127.0.0.1", seed: int = 0,
                 rates: FaultRates = CALM, max_seconds: float = 600.0,
                 host: str = "127.0.0.1") -> None:
        for address in (host, upstream_host):
            if not ipaddress.ip_address(address).is_loopback:
                raise ValueError(f"the fault proxy works on loopback only, not {address}")
        self.host, self.upstream = host, (upstream_host, upstream_port)
        self.rates, self.max_seconds = rates, max_seconds
        self._rng = random.Random(seed)
        self._stats = Stats()
        self._lock = threading.Lock()
        self._holds: dict[str, Hold] = {}
        self._ports: dict[str, int] = {}
        self._in_flight = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy",
                                        daemon=True)
        self._servers: list[asyncio.AbstractServer] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self.stopped = threading.Event()

    # -- control, from any thread ---------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._loop.call_soon_threadsafe(self._loop.call_later, self.max_seconds, self._shutdown)
        return self

    def stop(self) -> None:
        if not self.stopped.is_set() and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown_async(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def listen(self, name: str) -> int:
        """Open a listener called *name* on a free loopback port and return the port."""
        future = asyncio.run_coroutine_threadsafe(self._listen(name), self._loop)
        port = future.result(10)
        self._ports[name] = port
        return port

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self._ports[name]}"

    def set_rates(self, rates: FaultRates) -> None:
        with self._lock:
            self.rates = rates

    def calm(self) -> None:
        """Stop injecting faults; requests already being delayed go on."""
        self.set_rates(CALM)

    def stats(self) -> Stats:
        with self._lock:
            return self._stats.copy()

    def hold_next(self, name: str, when: Callable[[str, bytes], bool] = lambda _p, _b: True
                  ) -> Hold:
        """Hold the next server answer on listener *name* to a request that *when* accepts
        (called with the request's path and body)."""
        hold = Hold(when)
        with self._lock:
            self._holds[name] = hold
        return hold

    def in_flight(self) -> int:
        """How many requests the server has been given and not answered yet."""
        with self._lock:
            return self._in_flight

    def cancel_hold(self, name: str) -> None:
        """Forget the hold on *name* if no answer was held yet (a held one waits for release)."""
        with self._lock:
            self._holds.pop(name, None)

    # -- the loop -------------------------------------------------------------------------

    async def _listen(self, name: str) -> int:
        server = await asyncio.start_server(
            lambda r, w: self._connection(name, r, w), self.host, 0, limit=HEAD_LIMIT)
        self._servers.append(server)
        return server.sockets[0].getsockname()[1]

    def _shutdown(self) -> None:
        self._loop.create_task(self._shutdown_async())

    async def _shutdown_async(self) -> None:
        self.stopped.set()
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        for hold in self._holds.values():
            hold.release()

    async def _connection(self, name: str, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self._count("connections")
        try:
            while not self.stopped.is_set():
                request = await _read_request(reader)
                if request is None or not await self._exchange(name, request, writer):
                    break
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _exchange(self, name: str, request: _Message, client: asyncio.StreamWriter) -> bool:
        """Handle one request; False when the client connection is to be closed."""
        fault = self._decide()
        if fault == "drop":
            return False
        if fault == "error_5xx":
            client.write(self._error_answer())
            await client.drain()
            return False
        if fault == "delay":
            await asyncio.sleep(self._uniform(0.05, self.rates.max_delay))
        answer = await self._forward(request, cut=fault == "cut_request")
        if answer is None:
            return False
        self._observe(request, answer)
        if fault == "swallow":
            return False
        if fault == "cut_response":
            client.write(answer.raw[:self._cut_point(len(answer.raw))])
            await client.drain()
            return False
        await self._held(name, request)
        client.write(answer.raw)
        await client.drain()
        return not (answer.closes or request.closes)

    async def _forward(self, request: _Message, *, cut: bool) -> _Message | None:
        """Send *request* on a fresh upstream connection and read the whole answer."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream, limit=HEAD_LIMIT), 10)
        except (OSError, TimeoutError):
            self._count("upstream_down")
            return None
        try:
            data = request.raw
            writer.write(data[:self._cut_point(len(data))] if cut else data)
            await writer.drain()
            if cut:
                return None
            self._waiting(+1)
            try:
                return await asyncio.wait_for(_read_response(reader, request), UPSTREAM_TIMEOUT)
            finally:
                self._waiting(-1)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            self._count("upstream_down")
            return None
        finally:
            writer.close()

    async def _held(self, name: str, request: _Message) -> None:
        with self._lock:
            hold = self._holds.get(name)
            if hold is None or not hold.when(_path(request), request.body):
                return
            del self._holds[name]
        hold.body = request.body
        hold.reached.set()
        while not hold.released.is_set() and not self.stopped.is_set():
            await asyncio.sleep(0.02)

    # -- bookkeeping ------------------------------------------------------------------------

    def _decide(self) -> str | None:
        with self._lock:
            self._stats.requests += 1
            fault = self.rates.pick(self._rng)
            if fault:
                self._stats.faults[fault] += 1
            return fault

    def _uniform(self, low: float, high: float) -> float:
        with self._lock:
            return self._rng.uniform(low, max(low, high))

    def _cut_point(self, size: int) -> int:
        with self._lock:
            return self._rng.randrange(1, size) if size > 1 else 0

    def _error_answer(self) -> bytes:
        with self._lock:
            status = self._rng.choice((502, 503))
        reason = {502: "Bad Gateway", 503: "Service Unavailable"}[status]
        body = f"{status} {reason} (injected by the fault proxy)\n".encode()
        return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
                ).encode() + body

    def _waiting(self, change: int) -> None:
        with self._lock:
            self._in_flight += change

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self._stats, name, getattr(self._stats, name) + 1)

    def _observe(self, request: _Message, answer: _Message) -> None:
        """Count the answer's status and, for a sync push, each record's outcome."""
        status = int(answer.start_line.split()[1])
        outcomes: Counter = Counter()
        if status == 200 and _path(request).endswith(PUSH_PATH):
            try:
                outcomes.update(r["outcome"] for r in json.loads(answer.content)["results"])
            except (ValueError, KeyError, TypeError):
                outcomes["unreadable"] += 1
        with self._lock:
            self._stats.statuses[status] += 1
            self._stats.push_outcomes.update(outcomes)


# -- HTTP/1.1 framing ---------------------------------------------------------------------


def _path(message: _Message) -> str:
    parts = message.start_line.split()
    return parts[1].split("?")[0] if len(parts) > 1 else ""


async def _read_head(reader: asyncio.StreamReader) -> tuple[bytes, str, dict[str, str]] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None  # a clean close between requests
        raise
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return head, lines[0], headers


async def _read_request(reader: asyncio.StreamReader) -> _Message | None:
    parsed = await _read_head(reader)
    if parsed is None:
        return None
    head, start, headers = parsed
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported")
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return _Message(head, body, start, headers)


async def _read_response(reader: asyncio.StreamReader, request: _Message) -> _Message:
    parsed = await _read_head(reader)
    if parsed is None:
        raise ConnectionError("the server closed the connection without answering")
    head, start, headers = parsed
    status = int(start.split()[1])
    if request.start_line.startswith("HEAD ") or status in (204, 304) or status < 200:
        return _Message(head, b"", start, headers)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw, decoded = await _read_chunked(reader)
        return _Message(head, raw, start, headers, decoded)
    if "content-length" in headers:
        return _Message(head, await reader.readexactly(int(headers["content-length"])), start,
                        headers)
    body = await reader.read()  # delimited by the end of the connection
    return _Message(head, body, start, {**headers, "connection": "close"})


async def _read_chunked(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    raw, decoded = bytearray(), bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        raw += line
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                raw += trailer
            raw += b"\r\n"
            return bytes(raw), bytes(decoded)
        chunk = await reader.readexactly(size + 2)
        raw += chunk
        decoded += chunk[:-2]
