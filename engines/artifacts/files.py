"""File primitives for artifacts shared by several processes and containers on one bind mount.

- Appends are one os.write() per record on an O_APPEND descriptor: the kernel places each record
  whole at the end of the file, so concurrent writers never tear or lose lines.
- A shared CSV gets its header exactly once: the header is written to a private temp file which is
  then hard-linked into place; link() fails if the name exists, so only one writer can create it and
  nobody can append before the header is there.
- Snapshots (checkpoints, heartbeats) are replaced atomically: temp file, optional fsync, rename.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class AppendOnlyFile:
    """An O_APPEND file that takes whole records, one write() each."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def append(self, record: bytes) -> None:
        written = os.write(self._fd, record)
        if written != len(record):  # regular files never short-write short of ENOSPC; refuse to tear
            raise OSError(f"{self.path}: short write ({written} of {len(record)} bytes)")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class SharedCsv:
    """A CSV that several engines append to at once; rows are written whole and the header once."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        _create_with_header(path, self._line(self.columns))
        header = path.open("rb").readline().decode()
        if header != self._line(self.columns):
            raise OSError(
                f"{path}: existing header {header.strip()!r} differs from this version's "
                f"{','.join(self.columns)!r}; move the old file aside"
            )
        self._file = AppendOnlyFile(path)

    @staticmethod
    def _line(values: Sequence[object]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(values)
        return buffer.getvalue()

    def append(self, row: dict[str, object]) -> None:
        self._file.append(self._line([row[c] for c in self.columns]).encode())

    def close(self) -> None:
        self._file.close()


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
    a crash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        if os.write(fd, payload) != len(payload):
            raise OSError(f"{temp}: short write")
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)


def write_json_atomic(path: Path, data: Any, durable: bool) -> None:
    write_atomic(path, json.dumps(data, sort_keys=True, separators=(",", ":")).encode(), durable)  # C encoder


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
