"""The request log: one JSON line per REST call, admin call and ticker event, for tests and for the lead.

A line carries what happened, never a credential: the route *template* (`/user/margins/{segment}`, not the
path, since DELETE /session/token and the ticker URL carry the access token in the query string), the
method, the status, Kite's error type, counts. As a second guard every text value of a line, and every
line the server writes to stderr (`RedactingFormatter`), passes through the `Redactor`, which knows the
api_secret, the request tokens, the checksums they make and every access token issued, and masks any
that slipped in. Values shorter than MIN_SECRET are not masked: a two-letter test secret would mask
every word holding those letters (Kite's own secrets and tokens are 32 characters).

    {"at": "2026-11-27T10:02:03.123+05:30", "kind": "rest", "method": "GET", "route": "/quote/ltp",
     "status": 200, "order_route": false, "ms": 1.2, "kite_v3": true}
    {"at": ..., "kind": "ws", "event": "subscribe", "conn": 3, "requested": 2, "known": 2, "subscribed": 2}
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO

from engines.market.calendar import iso

LogValue = str | int | float | bool | None
MASK = "***"
MIN_SECRET = 8  # shorter values are not masked (see above)
MEMORY_LINES = 100_000  # what /_emulator/log and the facade can read back; the file keeps everything


class Redactor:
    """Masks known secret values in any text. Thread-safe: the server thread adds issued tokens while a
    logging call on another thread may be formatting."""

    def __init__(self, api_key: str, api_secret: str, tokens: list[str]) -> None:
        self._api_key, self._api_secret = api_key, api_secret
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        self.add(api_secret, *tokens)

    def add(self, *values: str) -> None:
        """Add secrets; a request token brings the checksum a client would send with it."""
        found = set(self._values)
        for value in values:
            checksum = self._api_key + value + self._api_secret
            found.add(hashlib.sha256(checksum.encode()).hexdigest())
            if len(value) >= MIN_SECRET:
                found.add(value)
        with self._lock:
            self._values = tuple(sorted(found, key=len, reverse=True))  # longest first: no partial masks

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output, tracebacks included, passes through the redactor."""

    def __init__(self, fmt: str, redactor: Redactor) -> None:
        super().__init__(fmt)
        self._redact = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


class RequestLog:
    """JSON lines to a file (flushed per line, so a crash loses nothing) and to a bounded memory buffer."""

    def __init__(self, path: Path | None, redactor: Redactor) -> None:
        self._redact = redactor
        self._lock = threading.Lock()
        self._lines: deque[str] = deque(maxlen=MEMORY_LINES)
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def record(self, kind: str, **fields: LogValue) -> None:
        clean = {name: self._redact(v) if isinstance(v, str) else v for name, v in fields.items()}
        line = json.dumps({"at": iso(int(time.time() * 1000)), "kind": kind, **clean})
        with self._lock:
            self._lines.append(line)
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()

    def entries(self) -> list[dict[str, LogValue]]:
        with self._lock:
            lines = list(self._lines)
        return [json.loads(line) for line in lines]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
