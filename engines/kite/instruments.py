"""The day's instrument master from Kite's dump: downloaded once a day, cached, read by the core's parser.

    GET /instruments -> market/<date>/instruments.csv (+ instruments.kite.json) -> InstrumentMaster

The dump is cached where the simulator writes its master, so a replay of the day reads the same file. It
is reused only when its side file says it came from the same api_root and its checksum still matches:
a simulator's master of the same date, or a torn copy, is downloaded over. One engine downloads while
the others wait on a flock of the day's directory, so three containers make one request.

The bytes are stored as Kite serves them once decoded: a gzip body (with or without a Content-Encoding
header) is unpacked and a UTF-8 byte-order mark dropped. The rest of the real dump's quirks (empty
strikes and prices, spaces after the header's commas, CRLF line ends, quoted names, options with no name,
index rows with zero tick and lot, every other exchange's rows) are InstrumentMaster.from_csv's to
tolerate; the dump is parsed before it is cached, so a broken download never becomes the day's master.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from engines.artifacts.files import write_atomic, write_json_atomic
from engines.artifacts.layout import ArtifactPaths
from engines.errors import ConfigError
from engines.kite.errors import KiteError
from engines.market.calendar import now_ist
from engines.market.instruments import InstrumentMaster
from engines.market.rules import MarketRules

log = logging.getLogger("kite")
GZIP_MAGIC = b"\x1f\x8b"


class DumpSource(Protocol):
    """Where the dump comes from (KiteRest, or a stand-in in tests)."""

    @property
    def api_root(self) -> str: ...

    def instruments_csv(self) -> bytes: ...


def load_kite_master(
    source: DumpSource,
    paths: ArtifactPaths,
    day: date,
    rules: MarketRules | None = None,
    now: Callable[[], datetime] = now_ist,
) -> InstrumentMaster:
    """The master of `day`: the cached dump when it is Kite's from `source.api_root`, else a new download."""
    path = paths.instruments(day)
    with _locked(path.parent / ".instruments.lock"):
        text = _cached(path, paths.instruments_source(day), source.api_root)
        if text is not None:
            log.info("instruments: reusing %s (downloaded from %s)", path, source.api_root)
            return _parse(text, day, str(path), rules)
        url = f"{source.api_root.rstrip('/')}/instruments"
        text = decode_dump(source.instruments_csv(), url)
        master = _parse(text, day, url, rules)
        payload = text.encode()
        write_atomic(path, payload, durable=True)
        write_json_atomic(
            paths.instruments_source(day),
            {
                "api_root": source.api_root,
                "fetched_ist": now().isoformat(timespec="seconds"),
                "bytes": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "instruments": len(master),  # the NSE and NFO rows the engines can use
            },
            durable=True,
        )
        log.info("instruments: %d NSE/NFO instruments from %s, cached at %s", len(master), url, path)
        return master


def decode_dump(raw: bytes, source: str) -> str:
    """The dump's text: gunzipped if it is still gzip, without a UTF-8 byte-order mark."""
    if raw.startswith(GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise KiteError(f"{source}: a truncated or corrupt gzip body ({exc}); download again") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KiteError(f"{source}: not UTF-8 text (byte {exc.start}); not Kite's instrument dump?") from None


def _parse(text: str, day: date, source: str, rules: MarketRules | None) -> InstrumentMaster:
    try:
        master = InstrumentMaster.from_csv(text, day, source, rules)
    except ConfigError as exc:  # a bad download is a runtime failure, not the operator's input
        raise KiteError(str(exc)) from None
    if len(master) == 0:
        raise KiteError(f"{source}: the dump has no NSE or NFO instruments; is this Kite's instrument dump?")
    return master


def _cached(path: Path, source_path: Path, api_root: str) -> str | None:
    """The cached dump's text when its side file vouches for it (same api_root, same checksum)."""
    try:
        source = json.loads(source_path.read_text())
        payload = path.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(source, dict) or source.get("api_root") != api_root:
        return None
    if source.get("sha256") != hashlib.sha256(payload).hexdigest():
        log.warning("instruments: %s does not match its checksum; downloading it again", path)
        return None
    return payload.decode()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o664)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
