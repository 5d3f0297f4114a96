"""One day, one owner: who may run on an artifacts directory.

    artifacts/locks/session.lock    a controller (`session run`) holds it exclusively; engines started
                                    without one (`python -m engines`, plain `docker compose up`) share it
    artifacts/locks/<engine>.lock   the process running that engine holds it exclusively

So a second controller, a bare engine beside a session, or two processes running the same engine refuse,
with the holder's PID and how it was started. The controller's own engines (in their containers) present
the token it recorded in session.lock (PAPERFLEET_SESSION_TOKEN) and take only their engine locks.

These are flock(2) locks: the kernel drops them when their process dies, even across containers on the bind
mount. A lock file whose holder died is stale by construction: the next owner takes it, and its recorded
holder (what ran there, which compose project) tells the next controller what to clean up.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engines.artifacts.nofollow import Owner, open_file
from engines.errors import ExitCode, PaperfleetError
from engines.market.calendar import now_ist

LOCKS = "locks"
SESSION = "session"
TOKEN_VARIABLE = "PAPERFLEET_SESSION_TOKEN"


class ArtifactsBusy(PaperfleetError):
    """Another run holds the artifacts directory: nothing was started, nothing was touched."""

    exit_code = ExitCode.BUSY


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int
    host: str  # the hostname: a container's is its short id
    started_as: str  # the command line
    since: str  # ISO time, IST
    project: str | None = None  # a controller's compose project
    token: str | None = None  # a controller's: its engines present it
    engines: tuple[str, ...] = field(default=())

    @classmethod
    def me(
        cls, project: str | None = None, engines: tuple[str, ...] = (), token: str | None = None
    ) -> Holder:
        program, args = sys.argv[0] if sys.argv else "", sys.argv[1:]
        if program.endswith("__main__.py"):
            program = f"python -m {Path(program).parent.name}"
        elif program == "-c":
            program = "python -c"
        command = " ".join([program or "python", *args])
        return cls(os.getpid(), os.uname().nodename, command, now_ist().isoformat(), project, token, engines)

    def describe(self) -> str:
        where = f" in project {self.project}" if self.project else ""
        return f"pid {self.pid} on {self.host} ({self.started_as}{where}, since {self.since[:19]})"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Holder:
        return cls(**{**data, "engines": tuple(data.get("engines", ()))})


class Lock:
    """An flock on one lock file under artifacts/locks/, with its holder recorded in the file."""

    def __init__(self, root: Path, name: str, owner: Owner | None, create: bool = True) -> None:
        flags = os.O_RDWR | os.O_CREAT if create else os.O_RDONLY
        self._fd = open_file(root, f"{LOCKS}/{name}.lock", flags, owner)

    def take(self, exclusive: bool) -> bool:
        try:
            fcntl.flock(self._fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return False
            raise
        return True

    def recorded(self) -> Holder | None:
        try:
            data = json.loads(os.pread(self._fd, 65_536, 0) or b"null")
            return Holder.from_json(data) if isinstance(data, dict) else None
        except (OSError, ValueError, TypeError):
            return None

    def record(self, holder: Holder) -> None:
        payload = json.dumps(asdict(holder)).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, payload, 0)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing drops the flock
            self._fd = -1


class ArtifactsLock:
    """What a process holds on an artifacts directory; released when it closes (or dies)."""

    def __init__(self, locks: list[Lock], previous: Holder | None = None, token: str | None = None) -> None:
        self._locks = locks
        self.previous = previous  # a controller's: what held session.lock before (now dead), if anything
        self.token = token  # a controller's: what its engines present

    @classmethod
    def for_session(cls, root: Path, project: str, owner: Owner | None) -> ArtifactsLock:
        """The controller's: exclusive, or ArtifactsBusy naming who holds it."""
        lock = Lock(root, SESSION, owner)
        if not lock.take(exclusive=True):
            holder = lock.recorded()
            lock.release()
            holders = [holder] if holder is not None and holder.token else _engine_holders(root, owner)
            raise ArtifactsBusy(_busy(root, holders))
        previous = lock.recorded()
        token = uuid.uuid4().hex
        lock.record(Holder.me(project=project, token=token))
        return cls([lock], previous, token)

    @classmethod
    def for_engines(cls, root: Path, engines: tuple[str, ...], owner: Owner | None = None) -> ArtifactsLock:
        """An engine process's: its controller's token, or a share of session.lock; then each engine's."""
        session = Lock(root, SESSION, owner)
        token = os.environ.get(TOKEN_VARIABLE)
        recorded = session.recorded()
        mine = bool(token) and recorded is not None and recorded.token == token
        if mine:
            session.release()
            locks = []
        elif session.take(exclusive=False):
            locks = [session]
        else:
            session.release()
            raise ArtifactsBusy(_busy(root, [recorded] if recorded is not None else []))
        for engine in engines:
            lock = Lock(root, engine, owner)
            if not lock.take(exclusive=True):
                holder = lock.recorded()
                lock.release()
                for held in locks:
                    held.release()
                raise ArtifactsBusy(_busy(root, [holder] if holder is not None else []))
            lock.record(Holder.me(engines=engines))
            locks.append(lock)
        return cls(locks)

    def release(self) -> None:
        for lock in self._locks:
            lock.release()


def _engine_holders(root: Path, owner: Owner | None) -> list[Holder]:
    """Who holds an engine lock right now (a lock we can take is free)."""
    holders = []
    directory = root / LOCKS
    for path in sorted(directory.glob("*.lock")) if directory.is_dir() else []:
        if path.stem == SESSION:
            continue
        lock = Lock(root, path.stem, owner)
        try:
            if not lock.take(exclusive=True):
                holder = lock.recorded()
                if holder is not None and holder not in holders:
                    holders.append(holder)
        finally:
            lock.release()
    return holders


def _busy(root: Path, holders: list[Holder]) -> str:
    who = "; ".join(h.describe() for h in holders) or "another process (it recorded nothing)"
    return (
        f"{root} is in use by {who}. One artifacts directory holds one day at a time: wait for it to end, "
        f"stop it (a session: Ctrl+C or SIGTERM to its controller), or give this run another artifacts_dir"
    )


def session_holder(root: Path) -> Holder | None:
    """Who holds the session lock now (a controller), or None; a probe that never blocks a holder."""
    if not (root / LOCKS / f"{SESSION}.lock").is_file():
        return None
    lock = Lock(root, SESSION, None, create=False)
    try:
        if lock.take(exclusive=False):  # a share is granted unless a controller holds it
            return None
        return lock.recorded()
    finally:
        lock.release()
