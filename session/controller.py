"""The trading day around the engine containers:

    compose up (layout's services) -> watch exit events + live status -> stop -> save logs
    -> session record -> EOD one-shot container -> compose down

Stop policy: every engine exiting 0 at the close ends the day normally; an engine exiting non-zero (a crash,
a failed live feed (exit 4: the day ends as `feed_failed`), or `docker kill`) is logged as an ERROR with
what its code means, and the others are stopped (SIGTERM, 10 s grace, then SIGKILL); SIGTERM/SIGINT to the
controller stops them all the same way. EOD runs in every case, so the report shows what happened. Exit 0,
or 1 when an engine or the EOD job failed.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Any

from python_on_whales import DockerException

from engines.artifacts.files import write_json_atomic
from engines.artifacts.layout import ArtifactPaths
from engines.market.calendar import now_ist
from session.compose import Compose, Exited, ExitWatcher, Started
from session.status import StatusBoard, read_heartbeat

log = logging.getLogger("session")
STOP_GRACE_S = 10
POLL_EVERY_S = 2.0  # how often exit codes are also read directly, besides the event stream


class Layout(StrEnum):
    SINGLE = "single"  # one container, all engines in one process (one thread each)
    MULTI = "multi"  # one container per engine


class EndedBy(StrEnum):
    CLOSE = "close"
    SIGNAL = "signal"
    ENGINE_FAILED = "engine_failed"
    FEED_FAILED = "feed_failed"  # an engine exited 4: the live feed went silent past its limit
    START_FAILED = "start_failed"


FAILED = (EndedBy.ENGINE_FAILED, EndedBy.FEED_FAILED, EndedBy.START_FAILED)
# What an engine's exit code means (docs/contract.md), for the log line that reports it.
EXIT_MEANINGS = {
    1: "a runtime failure",
    2: "a configuration error",
    4: "a feed failure: the live feed stopped delivering",
    137: "killed (SIGKILL)",
}
FEED_EXIT = 4


def services_for(layout: Layout, engines: Sequence[str]) -> tuple[str, ...]:
    return ("single",) if layout is Layout.SINGLE else tuple(engines)


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    layout: Layout
    engines: tuple[str, ...]  # enabled engine names
    paths: ArtifactPaths
    uid: int
    gid: int

    @property
    def services(self) -> tuple[str, ...]:
        return services_for(self.layout, self.engines)

    def service_of(self, engine: str) -> str:
        """The compose service an engine runs in under this layout."""
        return "single" if self.layout is Layout.SINGLE else engine


@dataclass(slots=True)
class Timings:
    """Milestones in seconds since the controller started (the benchmark reads them from the log)."""

    origin: float
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, time.monotonic() - self.origin)

    def summary(self) -> str:
        return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.marks.items())


class DayRun:
    def __init__(self, plan: DayPlan, compose: Compose, timings: Timings) -> None:
        self.plan = plan
        self.compose = compose
        self.timings = timings
        self._stop = threading.Event()
        self._board = StatusBoard(plan.paths, plan.engines)

    def run(self) -> int:
        self._install_signal_handlers()
        started_at = now_ist()
        watcher = ExitWatcher(self.compose, datetime.now(UTC) - timedelta(seconds=1))
        started: list[Started] = []
        exits: dict[str, int] = {}
        ended_by = EndedBy.START_FAILED
        try:
            try:
                started = self._start()
                if started:
                    ended_by = self._watch(started, watcher, exits)
            finally:
                self._stop_all([s for s in started if s.service not in exits])
                self._board.finish()
            self._save_logs(started)
            self._write_record(started, exits, ended_by, started_at)
            eod_ok = self._run_eod(watcher)
        finally:
            watcher.close()
            self.compose.down()
        failed = ended_by in FAILED
        code = 1 if failed or not eod_ok else 0
        log.info("day over: ended by %s; exit %d; timings: %s", ended_by.value, code, self.timings.summary())
        return code

    def _start(self) -> list[Started]:
        try:
            started = self.compose.up(self.plan.services)
        except DockerException as exc:
            log.error(
                "could not start %s: %s", ", ".join(self.plan.services), (exc.stderr or str(exc)).strip()
            )
            return []
        self.timings.mark("containers up")
        for s in started:
            log.info(
                "%s: started container %s (id %s): %s",
                s.service,
                s.container.name,
                s.container.id[:12],
                s.command,
            )
        return started

    # --- watching ------------------------------------------------------------------------------

    def _watch(self, started: list[Started], watcher: ExitWatcher, exits: dict[str, int]) -> EndedBy:
        running = {s.service: s for s in started}
        failed: str | None = None
        stopped = False  # the stop (SIGTERM, grace, SIGKILL) is sent once, whatever asked for it
        next_poll = time.monotonic() + POLL_EVERY_S
        while running:
            poll = time.monotonic() >= next_poll
            if poll:
                next_poll = time.monotonic() + POLL_EVERY_S
            for exited in self._drain(watcher, running, poll):
                running.pop(exited.service)
                exits[exited.service] = exited.exit_code
                if exited.exit_code == 0:
                    log.info("%s exited 0", exited.service)
                    continue
                log.error(
                    "engine %s (container %s) exited with code %d (%s)%s",
                    exited.service,
                    exited.container_id[:12],
                    exited.exit_code,
                    EXIT_MEANINGS.get(exited.exit_code, "a failure"),
                    ": stopping the others" if failed is None and running else "",
                )
                failed = failed or exited.service
            if running and not stopped and (failed or self._stop.is_set()):
                if not failed:
                    log.info(
                        "stop requested: stopping %s (SIGTERM, %d s grace)", ", ".join(running), STOP_GRACE_S
                    )
                    self.timings.mark("stop requested")
                self._stop_all(list(running.values()))
                stopped = True
                next_poll = 0.0  # they have exited now: read their codes at once
            self._mark_running()
            self._board.update(self._engine_exits(exits))
        self.timings.mark("all exited")
        self._board.update(self._engine_exits(exits), force=True)
        if failed is not None:
            return EndedBy.FEED_FAILED if exits[failed] == FEED_EXIT else EndedBy.ENGINE_FAILED
        return EndedBy.SIGNAL if self._stop.is_set() else EndedBy.CLOSE

    def _drain(self, watcher: ExitWatcher, running: dict[str, Started], poll: bool) -> list[Exited]:
        """Exit events from the stream; every couple of seconds also ask Docker directly, so a lost event
        cannot leave the controller waiting forever."""
        found: dict[str, Exited] = {}
        try:
            event = watcher.exits.get(timeout=0.25)
            while True:
                if event.service in running:
                    found[event.service] = event
                event = watcher.exits.get_nowait()
        except queue.Empty:
            pass
        if poll:
            for service, s in running.items():
                code = None if service in found else self.compose.exit_code(s.container)
                if code is not None:
                    found[service] = Exited(service, s.container.name, s.container.id, code)
        return list(found.values())

    def _mark_running(self) -> None:
        if "engines running" in self.timings.marks:
            return
        beats = [read_heartbeat(self.plan.paths, e) for e in self.plan.engines]
        if all(b is not None and b.get("status") in ("running", "finished", "stopped") for b in beats):
            self.timings.mark("engines running")

    def _engine_exits(self, exits: dict[str, int]) -> dict[str, int]:
        """Exit codes by engine (the status line speaks of engines, not services)."""
        services = {e: self.plan.service_of(e) for e in self.plan.engines}
        return {e: exits[s] for e, s in services.items() if s in exits}

    def _stop_all(self, still_running: Sequence[Started]) -> None:
        if not still_running:
            return
        began = time.monotonic()
        try:
            self.compose.stop([s.container for s in still_running], STOP_GRACE_S)
        except DockerException as exc:
            log.error("docker stop failed: %s", (exc.stderr or str(exc)).strip())
        log.info(
            "stopped %s in %.1f s", ", ".join(s.service for s in still_running), time.monotonic() - began
        )

    def _install_signal_handlers(self) -> None:
        def request_stop(signum: int, _frame: FrameType | None) -> None:
            if not self._stop.is_set():
                log.warning(
                    "%s received: stopping the engines, then the end-of-day job", signal.Signals(signum).name
                )
            self._stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    # --- after the day -------------------------------------------------------------------------

    def _save_logs(self, started: list[Started]) -> None:
        for s in started:
            path = self.plan.paths.root / "logs" / self.plan.day.isoformat() / f"{s.service}.log"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(self.compose.logs(s.container))
                self._give(path.parent, path)
            except (OSError, DockerException) as exc:
                log.warning("could not save the logs of %s: %s", s.service, exc)

    def _write_record(
        self, started: list[Started], exits: dict[str, int], ended_by: EndedBy, started_at: datetime
    ) -> None:
        by_service = {s.service: s for s in started}
        engines: dict[str, Any] = {}
        for engine in self.plan.engines:
            service = self.plan.service_of(engine)
            s = by_service.get(service)
            engines[engine] = {
                "service": service,
                "container": s.container.name if s else None,
                "container_id": s.container.id if s else None,
                "exit_code": exits.get(service),
            }
        record = {
            "date": self.plan.day.isoformat(),
            "layout": self.plan.layout.value,
            "project": self.compose.project_name,
            "started_at": started_at.isoformat(),
            "ended_at": now_ist().isoformat(),
            "ended_by": ended_by.value,
            "engines": engines,
            "exit_code": 1 if ended_by in FAILED else 0,
        }
        path = self.plan.paths.session_outcome(self.plan.day)
        write_json_atomic(path, record, durable=True)
        self._give(path.parent, path)

    def _run_eod(self, watcher: ExitWatcher) -> bool:
        began = time.monotonic()
        self.timings.mark("eod started")
        log.info("running the end-of-day job (one-shot eod container)")
        code, output = self.compose.run_once("eod")
        for line in output.strip().splitlines():
            log.info("eod | %s", line)
        self.timings.mark("eod done")
        exited = watcher.next_exit(
            "eod", timeout_s=3.0
        )  # compose run --rm hides its container: the event names it
        if exited is not None:
            log.info(
                "eod: one-shot container %s (id %s) exited %d",
                exited.name,
                exited.container_id[:12],
                exited.exit_code,
            )
        if code != 0:
            log.error("the end-of-day job exited with code %d", code)
            return False
        log.info("end-of-day job finished in %.1f s", time.monotonic() - began)
        return True

    def _give(self, *paths: Path) -> None:
        """Files the controller writes as root go to the container user, like the rest of artifacts/."""
        if os.geteuid() == 0:
            for path in paths:
                os.chown(path, self.plan.uid, self.plan.gid)
