"""The day's market record: every tick an engine consumed, as Parquet, beside the day's instrument master.

    artifacts/market/<date>/instruments.csv                   the master (Kite's /instruments format)
    artifacts/market/<date>/ticks/<engine>/<through_ms>.parquet  ticks stamped after the previous part and
                                                              at or before through_ms, in time order

Columns (int64; prices in paise): `ts` (exchange timestamp, epoch ms), `token` (Kite's instrument_token;
the master gives its symbol), `last_price`, `last_quantity`, `volume`, `oi`, and the five-level depth as
fixed-size lists of 5: `bid_price`, `bid_quantity`, `bid_orders`, `ask_price`, `ask_quantity`,
`ask_orders`. Compressed with zstd. It is written on every feed (simulator, Kite, replay), so any day can
be replayed exactly.

The hot path only keeps references to the batches it read (no copy, no encoding). When a part is due (a
minute of wall time, PART_TICKS, or the stop) a writer thread copies the columns into a spool file
(os.write copies without holding the GIL) and a converter process (`python -m engines.market.recording`)
encodes the Parquet part: the encoding never competes with the engine for the GIL, and at full replay
speed it happens once the day is done. scripts/bench_engines.py measures the cost. Each part covers up to a
moment the engine had fully processed and is written atomically (temp file, rename); a restarted engine
records again only what is after the last part, so a crash leaves neither a torn part nor a tick twice.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engines.artifacts.files import ArtifactWriteError
from engines.market.ticks import COLUMNS, DEPTH, DEPTH_COLUMNS, TickBatch

# A part is written once a minute of wall time has passed, or it holds this many ticks, or the engine stops:
# a live day writes a small part a minute, a replay at full speed a few large ones.
PART_TICKS = 2_000_000
PART_WALL_S = 60.0


def part_through(path: Path) -> int:
    return int(path.stem)


class MarketRecorder:
    def __init__(self, directory: Path, log: logging.Logger) -> None:
        self.directory = directory
        self._log = log
        parts = sorted(directory.glob("*.parquet"), key=part_through) if directory.exists() else []
        self.recorded_through = part_through(parts[-1]) if parts else -1
        for spool in directory.glob(".*.spool") if directory.exists() else ():
            spool.unlink()  # a crash's unconverted spool: those ticks are recorded again, after the last part
        self._pending: list[TickBatch] = []
        self._pending_ticks = 0
        self._next_part = time.monotonic() + PART_WALL_S
        self._queue: queue.Queue[tuple[int, list[TickBatch]] | None] = queue.Queue()
        self._error: ArtifactWriteError | None = None
        self._converter: subprocess.Popen[str] | None = None
        self._writer = threading.Thread(
            target=self._spool_parts, name=f"record-{directory.name}", daemon=True
        )
        self._writer.start()

    def add(self, ticks: TickBatch) -> None:
        """Keep a batch the engine read (ticks already recorded by an earlier run are left out)."""
        if not len(ticks) or int(ticks.ts[-1]) <= self.recorded_through:
            return
        if int(ticks.ts[0]) <= self.recorded_through:
            first_new = int(np.searchsorted(ticks.ts, self.recorded_through, side="right"))
            ticks = ticks.take(slice(first_new, None))
        self._pending.append(ticks)
        self._pending_ticks += len(ticks)

    def flush(self, through: int, force: bool = False) -> None:
        """At a moment the engine has fully processed: hand the kept batches to the writer as one part
        covering up to `through`, once a part is due (or `force`)."""
        if self._error is not None:
            raise self._error
        if not self._pending:
            return
        if not force and self._pending_ticks < PART_TICKS and time.monotonic() < self._next_part:
            return
        batches, self._pending, self._pending_ticks = self._pending, [], 0
        self._next_part = time.monotonic() + PART_WALL_S
        self.recorded_through = through
        self._queue.put((through, batches))

    def close(self, through: int | None) -> None:
        """Write what is left up to `through` (None: drop it, after a failure mid-step) and wait until every
        part is written."""
        if through is None:
            self._pending, self._pending_ticks = [], 0
        else:
            self.flush(through, force=True)
        self._queue.put(None)
        self._writer.join()
        if self._converter is not None:
            if self._converter.stdin:
                self._converter.stdin.close()
            outcome = self._converter.stdout.read() if self._converter.stdout else ""
            if self._converter.wait() != 0 and self._error is None:
                why = outcome.strip() or "the part converter failed"
                self._error = ArtifactWriteError(self.directory, why)
        if self._error is not None:
            raise self._error

    def _spool_parts(self) -> None:
        """The writer thread: raw columns into a spool file (os.write copies without the GIL), then the
        converter process makes the Parquet part: its encoding never competes with the engine for the GIL."""
        while True:
            item = self._queue.get()
            if item is None:
                return
            through, batches = item
            spool = self.directory / f".{through}.spool"
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                _write_spool(spool, batches)
                self._convert(spool, self.directory / f"{through}.parquet")
            except OSError as exc:
                self._error = ArtifactWriteError(spool, exc.strerror or str(exc))
                self._log.error("%s", self._error)

    def _convert(self, spool: Path, part: Path) -> None:
        if self._converter is None:
            self._converter = subprocess.Popen(
                [sys.executable, "-m", "engines.market.recording"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        assert self._converter.stdin is not None
        self._converter.stdin.write(json.dumps({"spool": str(spool), "part": str(part)}) + "\n")
        self._converter.stdin.flush()


def _write_spool(path: Path, batches: list[TickBatch]) -> None:
    """Raw columns, narrowed where the values allow (half the bytes to copy), after a JSON header line."""
    rows = sum(len(b) for b in batches)
    dtypes = {name: np.dtype(_NARROW.get(name, np.int64)) for name in COLUMNS}
    header = {
        "rows": rows,
        "columns": [[name, dtypes[name].str, getattr(batches[0], name).shape[1:]] for name in COLUMNS],
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, json.dumps(header).encode() + b"\n")
        for name in COLUMNS:
            for batch in batches:
                values = getattr(batch, name)
                data = np.ascontiguousarray(values, dtype=dtypes[name]).data.cast("B")
                while data:
                    data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


def _read_spool(path: Path) -> TickBatch:
    with path.open("rb") as handle:
        header = json.loads(handle.readline())
        offset = handle.tell()
    rows = header["rows"]
    columns = {}
    for name, dtype, shape in header["columns"]:
        count = rows * int(np.prod(shape)) if shape else rows
        values = np.fromfile(path, dtype=np.dtype(dtype), count=count, offset=offset).astype(np.int64)
        columns[name] = values.reshape(rows, *shape) if shape else values
        offset += count * np.dtype(dtype).itemsize
    return TickBatch(**columns)


def _converter() -> None:
    """`python -m engines.market.recording`: spool files in, Parquet parts out, one JSON command a line."""
    engine = os.getppid()

    def engine_alive() -> bool:
        # A killed engine's restart records these ticks again: a part landing now would hold them twice.
        return os.getppid() == engine

    for line in sys.stdin:
        command = json.loads(line)
        spool, part = Path(command["spool"]), Path(command["part"])
        try:
            if not write_part([_read_spool(spool)], part, engine_alive):
                return
            spool.unlink()
        except OSError as exc:
            print(f"cannot write {part}: {exc.strerror or exc}", flush=True)
            sys.exit(1)


def write_part(batches: list[TickBatch], path: Path, commit: Callable[[], bool] = lambda: True) -> bool:
    """Write the part atomically, unless `commit()` says no once it is encoded; whether it was written."""
    import pyarrow.parquet as pq  # only the converter process and readers load pyarrow, never an engine

    path.parent.mkdir(parents=True, exist_ok=True)
    import pyarrow as pa

    table = pa.concat_tables([_table(batch) for batch in batches])  # zero-copy: chunks of the batches
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table, temp, compression="zstd", compression_level=1, use_dictionary=False)
        if not commit():
            return False
        os.replace(temp, path)
        return True
    finally:
        temp.unlink(missing_ok=True)


def _table(ticks: TickBatch) -> Any:
    import pyarrow as pa

    columns: dict[str, Any] = {}
    for name in COLUMNS:
        values = getattr(ticks, name)
        narrow = _NARROW.get(name)
        if narrow is not None:
            values = values.astype(narrow)
        if name in DEPTH_COLUMNS:
            columns[name] = pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), DEPTH)
        else:
            columns[name] = pa.array(values)
    return pa.table(columns)


# Half the bytes to write and to read back: prices in paise, quantities and order counts fit 32 bits (tokens
# unsigned); times, volumes and open interest stay 64-bit.
_NARROW: dict[str, type[np.integer[Any]]] = {
    "token": np.uint32,
    "last_price": np.int32,
    "last_quantity": np.int32,
    **{name: np.int32 for name in DEPTH_COLUMNS},
}


def read_recording(directory: Path) -> list[TickBatch]:
    """The ticks recorded under a day's market directory, as time-ordered streams (one per part; a replay
    merges them as it reads, keeping a tick that two engines recorded once)."""
    parts = sorted((directory / "ticks").glob("*/*.parquet"))
    return [stream for stream in (read_part(path) for path in parts) if len(stream)]


def read_part(path: Path) -> TickBatch:
    import pyarrow.parquet as pq

    table = pq.read_table(path).combine_chunks()
    columns = {}
    for name in COLUMNS:
        column = table.column(name).chunk(0) if table.num_rows else None
        if column is None:
            return TickBatch.empty()
        if name in DEPTH_COLUMNS:
            columns[name] = column.flatten().to_numpy().astype(np.int64, copy=False).reshape(-1, DEPTH)
        else:
            columns[name] = column.to_numpy().astype(np.int64, copy=False)
    return TickBatch(**columns)


if __name__ == "__main__":
    _converter()
