"""File primitives for artifacts shared by several processes and containers on one bind mount.

- Appends are one os.write() per record on an O_APPEND descriptor: the kernel places each record whole
  at the end of the file, so concurrent writers never interleave inside a line.
- A write that fails part-way (ENOSPC, EIO) leaves no partial line behind: the file is cut back to its
  last whole line before the error is raised. Shared files are appended under a shared flock and cut
  back under an exclusive one, so a repair never removes another writer's whole line.
- A shared CSV gets its header exactly once: the header goes to a private temp file which is then
  hard-linked into place; link() fails if the name exists, so only one writer creates it.
- Snapshots (checkpoints, heartbeats, reports) are replaced atomically: temp file, fsync, rename.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from engines.errors import EngineFailure

_TAIL_CHUNK = 65_536


class ArtifactWriteError(EngineFailure):
    """An artifact could not be written; nothing partial was left behind."""

    def __init__(self, path: Path, cause: str) -> None:
        super().__init__(
            f"cannot write {path}: {cause}. Nothing partial was left in the file; fix the cause (free "
            f"space, permissions) and start the engine again: it resumes the day from its journal"
        )
        self.path = path


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


class AppendOnlyFile:
    """An O_APPEND file that takes whole lines, one write() each. `shared` files take a shared flock
    per append, so that a repair (exclusive) never runs while another writer appends."""

    def __init__(self, path: Path, shared: bool = False) -> None:
        self.path = path
        self._shared = shared
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            cut_to_last_line(path)  # a writer killed between a short write and its repair
        except OSError as exc:
            raise ArtifactWriteError(path, _cause(exc)) from exc

    def append(self, line: bytes) -> None:
        try:
            with self._lock(fcntl.LOCK_SH):
                written = os.write(self._fd, line)
                if written != len(line):  # a full disk (or a size limit) shortens a write: the retry says why
                    os.write(self._fd, line[written:])
                    raise OSError(28, os.strerror(28))
        except OSError as exc:
            with contextlib.suppress(OSError):
                cut_to_last_line(self.path)
            raise ArtifactWriteError(self.path, _cause(exc)) from exc

    @contextlib.contextmanager
    def _lock(self, kind: int) -> Iterator[None]:
        if not self._shared:
            yield
            return
        fcntl.flock(self._fd, kind)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def cut_to_last_line(path: Path) -> bool:
    """Truncate `path` after its last newline (under an exclusive flock); True when it cut something."""
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        end = size
        while end > 0:
            start = max(0, end - _TAIL_CHUNK)
            chunk = os.pread(fd, end - start, start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        else:
            keep = 0
        if keep == size:
            return False
        os.ftruncate(fd, keep)
        return True
    finally:
        os.close(fd)  # closing drops the lock


class SharedCsv:
    """A CSV that several engines append to at once; rows are written whole and the header once."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.path = path
        try:
            _create_with_header(path, csv_line(self.columns))
            with path.open("rb") as handle:
                header = handle.readline().decode()
        except OSError as exc:
            raise ArtifactWriteError(path, _cause(exc)) from exc
        if header != csv_line(self.columns):
            raise EngineFailure(
                f"{path}: existing header {header.strip()!r} differs from this version's "
                f"{','.join(self.columns)!r}; move the old file aside"
            )
        self._file = AppendOnlyFile(path, shared=True)

    def append(self, row: dict[str, object]) -> None:
        self._file.append(csv_line([row[c] for c in self.columns]).encode())

    def rows(self) -> Iterator[dict[str, str]]:
        """Every whole row written so far (by any engine)."""
        with self.path.open(newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)

    def close(self) -> None:
        self._file.close()


def csv_line(values: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _create_with_header(path: Path, header: str) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")  # unique across containers too
    try:
        temp.write_text(header)
        with contextlib.suppress(FileExistsError):  # another engine created it first: theirs stands
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_atomic(path: Path, payload: bytes, durable: bool) -> None:
    """Replace `path` with `payload` so readers see the old or the new file, never a torn one.
    `durable` fsyncs the content before the rename (checkpoints, reports; heartbeats need not survive
    a crash). A failed write removes its temp file and raises ArtifactWriteError."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            if os.write(fd, payload) != len(payload):
                raise OSError(28, os.strerror(28))
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise ArtifactWriteError(path, _cause(exc)) from exc


def write_json_atomic(path: Path, data: Any, durable: bool) -> None:
    write_atomic(path, json.dumps(data, sort_keys=True, separators=(",", ":")).encode(), durable)  # C encoder


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
