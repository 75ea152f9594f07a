"""A gunicorn worker that never gives a thread to a request still arriving.

gunicorn's threaded worker (gthread) hands a connection to a thread as soon as its first byte
arrives, and the thread then blocks reading the rest of the request. A client that trickles its
headers (slowloris) or its body holds that thread; workers x threads such clients starve the
portal. gthread also closes a connection after its last response on the event loop, waiting up to
2 s for the client to close its side, so a few silent clients stall everything else too.

This worker reads each request in the worker's event loop, without blocking: the head, then a
body framed by Content-Length (up to the app's MAX_CONTENT_LENGTH) or chunked. Only a request
complete in memory goes to the thread pool, where gunicorn's own parser reads it from that buffer
(bytes of a pipelined next request stay there for the next round). A request that has not arrived
within REQUEST_TIMEOUT seconds, plus time for its body at BODY_MIN_RATE, is answered 408 and its
connection closed. Closing drains the client from the event loop for LINGER seconds, so it reads
its answer rather than a reset, and nothing waits for it.

Handed to a thread right after the head, with the connection closed after the answer: a
Content-Length over MAX_CONTENT_LENGTH (the app answers 413 without reading the body) and framing
gunicorn refuses (400). The worker itself answers a head over MAX_HEAD (431), a chunked body over
MAX_CONTENT_LENGTH (413) and any request while BUFFER_BUDGET is held by unfinished ones (503).

New connections go to the worker holding fewest (a LoadBoard the master shares with its
workers): a kept-alive client stays with the worker that accepted it, and with gunicorn's plain
accept race 20 clients split e.g. 8/12 between two workers, the twelve waiting half as long again.

It builds on gunicorn 27's gthread (enqueue_req, TConn, the parser's unreader): setup.cfg pins it.
The portal serves plain HTTP/1.1 and leaves TLS to a proxy in front: with TLS, HTTP/2 or the
PROXY protocol configured this worker serves as gthread does and logs a warning.
"""

from __future__ import annotations

import errno
import math
import multiprocessing
import os
import re
import selectors
import socket
import time
from dataclasses import dataclass
from functools import partial

from gunicorn import http, util
from gunicorn.http.message import DEFAULT_MAX_HEADERFIELD_SIZE, MAX_REQUEST_LINE
from gunicorn.workers.gthread import TConn, ThreadWorker

TIMEOUT_ENV = "DEALER_PORTAL_REQUEST_TIMEOUT"
REQUEST_TIMEOUT = 10.0  # seconds to send a request's head; TIMEOUT_ENV overrides it
BODY_MIN_RATE = 64 * 1024  # bytes/s: a body gets REQUEST_TIMEOUT more plus its size at this rate
MAX_HEAD = 1024 * 1024  # bytes; above gunicorn's own limits (100 fields of 8 KiB by default)
BUFFER_BUDGET = 128 * 1024 * 1024  # bytes held for unfinished requests in one worker
LINGER = 2.0  # seconds a closed connection is drained, as gunicorn's graceful close does
SWEEP_EVERY = 0.25  # seconds between looks for connections past their deadline
READ_SIZE = 64 * 1024
BALANCE_EVERY = 0.05  # seconds: how soon a worker leaving new connections to others looks again
HEARTBEAT_STALE = 5.0  # seconds without news after which a worker's count is ignored (hung, gone)
DEFAULT_MAX_BODY = 8 * 1024 * 1024  # when the app sets no MAX_CONTENT_LENGTH

_BLANK_LINE = re.compile(rb"\r\n\r\n|(?<!\r)\n")  # the end of a head, or a bare LF gunicorn refuses
_HEX = re.compile(rb"[0-9a-fA-F]+")


class LoadBoard:
    """How many connections each worker holds, in memory the master shares with its workers.

    The master gives each worker a slot before forking it (`assign`, gunicorn's pre_fork hook)
    and clears it when the worker exits (`clear`, child_exit). A worker writes its count and a
    heartbeat at every round of its event loop; a slot without a heartbeat for HEARTBEAT_STALE
    seconds (a hung worker) is ignored, so nobody waits for it.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._values = multiprocessing.RawArray("d", 2 * slots)  # per slot: connections, beat

    def assign(self, worker, live_workers) -> None:
        taken = {getattr(w, "board_slot", None) for w in live_workers if w is not worker}
        free = [slot for slot in range(self.slots) if slot not in taken]
        if free:  # more workers than slots (a brief overlap while replacing them): not balanced
            worker.board, worker.board_slot = self, free[0]
            self.clear(free[0])

    def clear(self, slot: int) -> None:
        self._values[2 * slot] = self._values[2 * slot + 1] = 0.0

    def publish(self, slot: int, connections: int) -> None:
        self._values[2 * slot] = connections
        self._values[2 * slot + 1] = time.monotonic()

    def fewest_elsewhere(self, slot: int) -> float:
        """The fewest connections any other live worker holds (infinity: no other worker)."""
        fresh_since = time.monotonic() - HEARTBEAT_STALE
        values = self._values
        return min((values[2 * other] for other in range(self.slots)
                    if other != slot and values[2 * other + 1] > fresh_since), default=math.inf)


class _Refuse(Exception):
    """The event loop answers the request itself with this status line, then closes."""


@dataclass(eq=False)
class _Incoming:
    """A request on its way in: the bytes so far, where reading them has got to, its deadline."""

    deadline: float
    data: bytearray
    stage: str = "head"  # head -> body | chunks -> trailers
    section: int = 0  # where the head, or the trailers, start
    pos: int = 0  # where the scan resumes
    end: int = 0  # stage "body": the request is in once this many bytes are
    chunked_size: int = 0
    close_after: bool = False  # handed on before its body: no keep-alive after the answer
    continued: bool = False  # "100 Continue" sent from the event loop


class _Connection(TConn):
    """A gthread connection whose graceful close is left to the event loop."""

    def __init__(self, linger, *args) -> None:
        super().__init__(*args)
        self.linger = linger
        self.close_after = self.continued = False  # of the request a thread is given

    def close(self, graceful: bool = False) -> None:
        if graceful:
            self.linger(self)
        else:
            super().close()


class BufferingWorker(ThreadWorker):
    """gthread, with every request read whole in the event loop before a thread serves it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cfg = self.cfg
        self.buffering = not (cfg.is_ssl or "h2" in cfg.http_protocols
                              or cfg.proxy_protocol != "off")
        self.request_timeout = float(os.environ.get(TIMEOUT_ENV, REQUEST_TIMEOUT))
        self.max_body = DEFAULT_MAX_BODY
        self.max_chunk_line = cfg.limit_request_field_size  # as gunicorn's chunked reader has it
        if self.max_chunk_line <= 0:
            self.max_chunk_line = DEFAULT_MAX_HEADERFIELD_SIZE
        self.max_request_line = cfg.limit_request_line  # as gunicorn's parser has it; 0: none
        if not 0 <= self.max_request_line < MAX_REQUEST_LINE:
            self.max_request_line = MAX_REQUEST_LINE
        self.incoming: dict[_Connection, _Incoming] = {}
        self.lingering: dict[_Connection, float] = {}
        self.held = 0
        self.next_sweep = 0.0
        self.board: LoadBoard | None = None  # the master's pre_fork hook may give it one
        self.board_slot = 0

    @property
    def worker_connections(self) -> int:
        """gthread stops accepting at this many connections; also while another worker has fewer."""
        board = self.board
        if board is not None and board.fewest_elsewhere(self.board_slot) < self.nr_conns:
            return self.nr_conns
        return self._max_connections

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._max_connections = value

    def notify(self) -> None:
        """The heartbeat, once per round of the event loop: also tell the others our count."""
        super().notify()
        if self.board is not None:
            self.board.publish(self.board_slot, self.nr_conns)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if not self._accepting:  # maybe it is our turn again soon, even with nothing to do here
            timeout = min(timeout, BALANCE_EVERY)
        super().wait_for_and_dispatch_events(timeout)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        config = getattr(self.wsgi, "config", {})
        self.max_body = config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BODY
        if not self.buffering:
            self.log.warning("TLS, HTTP/2 or the PROXY protocol is on: requests are read in "
                             "threads, so slow clients can hold them (see portal/http_worker.py)")

    def accept(self, listener) -> None:
        """As gthread's, with a connection whose closing is left to the event loop."""
        if not self.buffering:
            return super().accept(listener)
        try:
            sock, client = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return None
        self.nr_conns += 1
        self.enqueue_req(_Connection(self.linger, self.cfg, sock, client, listener.getsockname()))
        return None

    def enqueue_req(self, conn) -> None:
        """Read the connection's next request in the event loop; a thread gets it once it is in.

        gthread calls this for a new connection, a kept-alive one that became readable, and one
        whose last request was followed by more bytes (already in its parser's buffer).
        """
        if not self.buffering:
            return super().enqueue_req(conn)
        ahead = conn.parser.unreader.take_buffered() if conn.parser else b""
        conn.sock.setblocking(False)
        self.incoming[conn] = _Incoming(time.monotonic() + self.request_timeout, bytearray(ahead))
        self.held += len(ahead)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
        if ahead:
            self._advance(conn)
        else:  # usually readable already: no need to wait a round of the event loop
            self._on_readable(conn, conn.sock)
        return None

    def handle_request(self, req, conn):
        if getattr(conn, "close_after", False):
            req.force_close()  # its body may still be arriving: no thread waits to drain it
        if getattr(conn, "continued", False):
            req._expected_100_continue = False  # so gunicorn does not send it a second time
        return super().handle_request(req, conn)

    def _on_readable(self, conn: _Connection, _sock) -> None:
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away before finishing its request
            self._drop(conn)
            return
        self.incoming[conn].data += data
        self.held += len(data)
        if self.held > BUFFER_BUDGET:
            self._refuse(conn, b"503 Service Unavailable")
        else:
            self._advance(conn)

    def _advance(self, conn: _Connection) -> None:
        """Hand the request to a thread, answer it here, or wait for more."""
        incoming = self.incoming[conn]
        try:
            complete = self._complete(conn, incoming)
        except _Refuse as refusal:
            self._refuse(conn, refusal.args[0])
            return
        if complete:
            self._submit(conn, incoming)

    def _complete(self, conn: _Connection, incoming: _Incoming) -> bool:
        """Whether a thread can serve the request without ever waiting for the client."""
        if incoming.stage == "head":
            found = self._blank_line(incoming)
            if found is None and not self._line_too_long(incoming.data):
                return False
            if found is not None and found.group() == b"\r\n\r\n":
                self._frame(conn, incoming)
            else:  # a bare LF, or a request line too long: gunicorn refuses what is here
                _hand_over_now(incoming)
        if incoming.stage == "chunks" and not self._chunks(incoming):
            return False
        if incoming.stage == "trailers":
            return self._blank_line(incoming) is not None
        return len(incoming.data) >= incoming.end

    def _blank_line(self, incoming: _Incoming) -> re.Match | None:
        """Find the end of the head (or of the trailers), or a bare LF that gunicorn refuses."""
        found = _BLANK_LINE.search(incoming.data, max(incoming.pos - 3, incoming.section))
        incoming.pos = found.end() if found else len(incoming.data)
        if found is None and incoming.pos - incoming.section > MAX_HEAD:
            raise _Refuse(b"431 Request Header Fields Too Large")
        return found

    def _line_too_long(self, data: bytearray) -> bool:
        """Whether gunicorn can already tell that the request line is over its limit (414)."""
        limit = self.max_request_line
        return 0 < limit < len(data) - 2 and data.find(b"\r\n", 0, limit + 2) < 0

    def _frame(self, conn: _Connection, incoming: _Incoming) -> None:
        """Learn from the head how its body is framed; gunicorn checks the details later."""
        head_end = incoming.pos
        request_line, *lines = bytes(incoming.data[:head_end]).lstrip(b"\r\n").split(b"\r\n")
        fields: dict[bytes, list[bytes]] = {}
        for line in lines:
            name, _, value = line.partition(b":")
            fields.setdefault(name.lower(), []).append(value.strip(b" \t"))
        length = _content_length(fields)
        if b"transfer-encoding" in fields:
            codings = b",".join(fields[b"transfer-encoding"]).split(b",")
            if codings[-1].strip(b" \t").lower() == b"chunked" and b"content-length" not in fields:
                incoming.stage, incoming.pos = "chunks", head_end
            else:
                _hand_over_now(incoming)
        elif b"content-length" not in fields:
            incoming.stage, incoming.end = "body", head_end
        elif length is None or length > self.max_body:
            _hand_over_now(incoming)
        else:
            incoming.stage, incoming.end = "body", head_end + length
        if incoming.stage == "chunks" or len(incoming.data) < incoming.end:
            body = self.max_body if incoming.stage == "chunks" else length
            incoming.deadline = time.monotonic() + self.request_timeout + body / BODY_MIN_RATE
            expect = [value.lower() for value in fields.get(b"expect", [])]
            if expect == [b"100-continue"] and request_line.endswith(b"/1.1"):
                _send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
                incoming.continued = True

    def _chunks(self, incoming: _Incoming) -> bool:
        """Follow the chunks that have arrived; True once the last one is in."""
        data = incoming.data
        while True:
            eol = data.find(b"\r\n", incoming.pos)
            if eol < 0:
                if len(data) - incoming.pos > self.max_chunk_line:
                    _hand_over_now(incoming)  # gunicorn refuses an endless size line
                    return True
                return False
            size, extension, _ = bytes(data[incoming.pos:eol]).partition(b";")
            size = size.rstrip(b" \t") if extension else size
            if not _HEX.fullmatch(size):
                _hand_over_now(incoming)  # gunicorn answers 400
                return True
            length = int(size, 16)
            if length == 0:
                incoming.stage, incoming.section, incoming.pos = "trailers", eol, eol
                return True
            if incoming.chunked_size + length > self.max_body:
                raise _Refuse(b"413 Content Too Large")
            if len(data) < eol + 2 + length + 2:
                return False
            incoming.chunked_size += length
            incoming.pos = eol + 2 + length + 2

    def _submit(self, conn: _Connection, incoming: _Incoming) -> None:
        self._forget(conn)
        if conn.parser is None:  # a new connection; gthread would create the parser in the thread
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
            conn.data_ready = True  # nothing for the thread to wait for
        conn.parser.unreader.unread(bytes(incoming.data))
        conn.close_after, conn.continued = incoming.close_after, incoming.continued
        super().enqueue_req(conn)

    def _refuse(self, conn: _Connection, status: bytes) -> None:
        """Answer from the event loop (no thread needed) and close the connection."""
        self._forget(conn)
        self.nr_conns -= 1
        _send(conn, b"HTTP/1.1 %s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n" % status)
        self.linger(conn)

    def _drop(self, conn: _Connection) -> None:
        self._forget(conn)
        self.nr_conns -= 1
        conn.close()

    def _forget(self, conn: _Connection) -> None:
        self.held -= len(self.incoming.pop(conn).data)
        self.poller.unregister(conn.sock)

    def linger(self, conn: _Connection) -> None:
        """Close after the last answer: FIN now, then drop what the client still sends."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            util.close(conn.sock)
            return
        conn.sock.setblocking(False)
        self.lingering[conn] = time.monotonic() + LINGER
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._drain, conn))

    def _drain(self, conn: _Connection, _sock) -> None:
        try:
            if conn.sock.recv(READ_SIZE):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._close_lingering(conn)

    def _close_lingering(self, conn: _Connection) -> None:
        del self.lingering[conn]
        self.poller.unregister(conn.sock)
        util.close(conn.sock)

    def murder_pending(self) -> None:
        """Also close connections whose request is overdue (408) and lingering ones in time."""
        super().murder_pending()
        now = time.monotonic()
        if now < self.next_sweep:
            return
        self.next_sweep = now + SWEEP_EVERY
        for conn in [c for c, incoming in self.incoming.items() if incoming.deadline <= now]:
            if self.incoming[conn].data:
                self._refuse(conn, b"408 Request Timeout")
            else:  # never said anything: nothing to answer
                self._drop(conn)
        for conn in [c for c, deadline in self.lingering.items() if deadline <= now]:
            self._close_lingering(conn)

    def _cap_keepalive(self, deadline: float) -> None:
        """On stopping, idle new connections get no longer than kept-alive ones."""
        super()._cap_keepalive(deadline)
        for incoming in self.incoming.values():
            if not incoming.data:
                incoming.deadline = min(incoming.deadline, deadline)


def _content_length(fields: dict[bytes, list[bytes]]) -> int | None:
    """The one Content-Length, if it is a plain number; gunicorn refuses anything else."""
    values = fields.get(b"content-length", [])
    if len(values) != 1 or not values[0].isdigit() or len(values[0]) > 15:
        return None
    return int(values[0])


def _hand_over_now(incoming: _Incoming) -> None:
    """What is here lets gunicorn answer (or refuse) the request: no need to wait for more."""
    incoming.stage, incoming.end, incoming.close_after = "body", 0, True


def _send(conn: _Connection, data: bytes) -> None:
    """Best effort: a few bytes to a socket that has just been read from fit its buffer."""
    try:
        conn.sock.send(data)
    except OSError:
        pass
