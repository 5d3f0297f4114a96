"""The trading day around the engine containers:

    compose up (layout's services) -> watch exits, heartbeats and the live status -> stop -> save logs
    -> session record -> EOD one-shot container -> compose down

Stop policy: every engine exiting 0 at the close ends the day normally; an engine exiting non-zero (a crash,
a failed live feed (exit 4: the day ends as `feed_failed`), or `docker kill`) is logged as an ERROR with
what its code means, and the others are stopped (SIGTERM, 10 s grace, then SIGKILL); so is an engine whose
heartbeat is older than controller.heartbeat_limit_s (hung, or its container paused). With
controller.restart: on-failure, a failed engine's container is started again (it resumes from its journal)
up to controller.max_restarts times before its failure ends the day. SIGTERM/SIGINT to the controller stops
them all the same way.

The report always comes: whatever ends the day, an unexpected exception or a Docker error included, the
engines are stopped, the session record is written and the EOD job runs. Exit 0, or 1 when an engine, the
controller or the EOD job failed. Everything the controller (root) writes under artifacts/ goes through
engines/artifacts/nofollow.py: no link the container user planted is ever followed.
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import FrameType
from typing import Any, TypeVar

from python_on_whales import DockerException

from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.nofollow import Owner, write_file
from engines.config import ControllerConfig
from engines.market.calendar import now_ist
from session.compose import Compose, Exited, ExitWatcher, Started
from session.status import StatusBoard, heartbeat_age, read_heartbeat

log = logging.getLogger("session")
STOP_GRACE_S = 10
POLL_EVERY_S = 2.0  # how often exit codes are also read directly, besides the event stream
FIRST_BEAT_S = 120.0  # before its first beat an engine may be starting (images, Kite's dump): not yet hung
T = TypeVar("T")


class Layout(StrEnum):
    SINGLE = "single"  # one container, all engines in one process (one thread each)
    MULTI = "multi"  # one container per engine


class EndedBy(StrEnum):
    CLOSE = "close"
    SIGNAL = "signal"
    ENGINE_FAILED = "engine_failed"
    FEED_FAILED = "feed_failed"  # an engine exited 4: the live feed went silent past its limit
    ENGINE_HUNG = "engine_hung"  # an engine's heartbeat went older than controller.heartbeat_limit_s
    CONTROLLER_FAILED = "controller_failed"  # a Docker error or a bug in the controller itself
    START_FAILED = "start_failed"


FAILED = (
    EndedBy.ENGINE_FAILED,
    EndedBy.FEED_FAILED,
    EndedBy.ENGINE_HUNG,
    EndedBy.CONTROLLER_FAILED,
    EndedBy.START_FAILED,
)
# What an engine's exit code means (docs/contract.md), for the log line that reports it.
EXIT_MEANINGS = {
    1: "a runtime failure",
    2: "a configuration error",
    4: "a feed failure: the live feed stopped delivering",
    5: "refused: another run holds the artifacts directory",
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
    watch: ControllerConfig

    @property
    def services(self) -> tuple[str, ...]:
        return services_for(self.layout, self.engines)

    @property
    def owner(self) -> Owner:
        return (self.uid, self.gid)

    def service_of(self, engine: str) -> str:
        """The compose service an engine runs in under this layout."""
        return "single" if self.layout is Layout.SINGLE else engine

    def engines_of(self, service: str) -> list[str]:
        return [e for e in self.engines if self.service_of(e) == service]


@dataclass(slots=True)
class Timings:
    """Milestones in seconds since the controller started (the benchmark reads them from the log)."""

    origin: float
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, time.monotonic() - self.origin)

    def summary(self) -> str:
        return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.marks.items())


@dataclass(slots=True)
class Watch:
    """What the watch saw: final exit codes, restarts, and the service whose failure ends the day."""

    exits: dict[str, int] = field(default_factory=dict)
    restarts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failed: str | None = None
    hung: bool = False


class DayRun:
    def __init__(self, plan: DayPlan, compose: Compose, timings: Timings) -> None:
        self.plan = plan
        self.compose = compose
        self.timings = timings
        self._stop = threading.Event()
        self._board = StatusBoard(plan.paths, plan.engines)
        self._began = time.time()

    def run(self) -> int:
        self._install_signal_handlers()
        started_at = now_ist()
        started: list[Started] = []
        seen = Watch()
        ended_by = EndedBy.START_FAILED
        watcher: ExitWatcher | None = None
        try:
            watcher = ExitWatcher(self.compose, datetime.now(UTC) - timedelta(seconds=1))
            started = self._start()
            if started:
                ended_by = self._watch(started, watcher, seen)
        except Exception as exc:  # a Docker error, a bug: the day still stops cleanly and gets its report
            log.error(
                "the controller failed (%s): stopping the engines, then the end-of-day job",
                docker_text(exc),
                exc_info=not isinstance(exc, DockerException),  # a bug: its traceback
            )
            ended_by = EndedBy.CONTROLLER_FAILED
        self._attempt(
            "stop the engines", lambda: self._stop_all([s for s in started if s.service not in seen.exits])
        )
        self._board.finish()
        self._attempt("save the container logs", lambda: self._save_logs(started))
        record = self._attempt(
            "write the session record", lambda: self._record(started, seen, ended_by, started_at)
        )
        eod = self._attempt("run the end-of-day job", lambda: self._run_eod(watcher))
        failed = ended_by in FAILED or eod != 0
        code = 1 if failed else 0
        if record is not None:
            self._attempt(
                "complete the session record",
                lambda: self._write_record({**record, "eod_exit_code": eod, "exit_code": code}),
            )
        if watcher is not None:
            watcher.close()
        self._attempt("remove the containers", self.compose.down)
        log.info("day over: ended by %s; exit %d; timings: %s", ended_by.value, code, self.timings.summary())
        return code

    def _attempt(self, what: str, step: Callable[[], T]) -> T | None:
        """One step after the day: a failure is logged and the next step still runs."""
        try:
            return step()
        except Exception as exc:
            log.error("could not %s: %s", what, docker_text(exc))
            return None

    def _start(self) -> list[Started]:
        try:
            started = self.compose.up(self.plan.services)
        except DockerException as exc:
            log.error("could not start %s: %s", ", ".join(self.plan.services), docker_text(exc))
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

    def _watch(self, started: list[Started], watcher: ExitWatcher, seen: Watch) -> EndedBy:
        running = {s.service: s for s in started}
        stopped = False  # the stop (SIGTERM, grace, SIGKILL) is sent once, whatever asked for it
        next_poll = time.monotonic() + POLL_EVERY_S
        while running:
            poll = time.monotonic() >= next_poll
            if poll:
                next_poll = time.monotonic() + POLL_EVERY_S
            for exited in self._drain(watcher, running, poll):
                self._exited(exited, running, seen, stopping=stopped)
            if poll and not stopped and seen.failed is None:
                self._watchdog(running, seen)
            if running and not stopped and (seen.failed or self._stop.is_set()):
                if not seen.failed:
                    log.info(
                        "stop requested: stopping %s (SIGTERM, %d s grace)", ", ".join(running), STOP_GRACE_S
                    )
                    self.timings.mark("stop requested")
                self._stop_all(list(running.values()))
                stopped = True
                next_poll = 0.0  # they have exited now: read their codes at once
            self._mark_running()
            self._board.update(self._engine_exits(seen.exits))
        self.timings.mark("all exited")
        self._board.update(self._engine_exits(seen.exits), force=True)
        if seen.failed is not None:
            if seen.hung:
                return EndedBy.ENGINE_HUNG
            return EndedBy.FEED_FAILED if seen.exits.get(seen.failed) == FEED_EXIT else EndedBy.ENGINE_FAILED
        return EndedBy.SIGNAL if self._stop.is_set() else EndedBy.CLOSE

    def _exited(self, exited: Exited, running: dict[str, Started], seen: Watch, stopping: bool) -> None:
        service, code = exited.service, exited.exit_code
        if code == 0:
            log.info("%s exited 0", service)
            running.pop(service)
            seen.exits[service] = 0
            return
        meaning = EXIT_MEANINGS.get(code, "a failure")
        restarts = seen.restarts.setdefault(service, [])
        if restarts and exited.at is not None and exited.at <= datetime.fromisoformat(restarts[-1]["at"]):
            return  # the exit that was restarted, reported again (by the event stream, or a poll)
        watch = self.plan.watch
        if (
            not stopping
            and seen.failed is None
            and watch.restart == "on-failure"
            and len(restarts) < watch.max_restarts
        ):
            restarts.append({"at": now_ist().isoformat(), "exit_code": code})
            self.compose.start(running[service].container)
            log.warning(
                "engine %s (container %s) exited with code %d (%s): restarting it (restart %d of %d); "
                "it resumes from its journal",
                service, exited.container_id[:12], code, meaning, len(restarts), watch.max_restarts,
            )  # fmt: skip
            return
        running.pop(service)
        seen.exits[service] = code
        final = f" after {len(restarts)} restart(s): a final failure" if restarts else ""
        log.error(
            "engine %s (container %s) exited with code %d (%s)%s%s",
            service,
            exited.container_id[:12],
            code,
            meaning,
            final,
            ": stopping the others" if seen.failed is None and running else "",
        )
        seen.failed = seen.failed or service

    def _watchdog(self, running: dict[str, Started], seen: Watch) -> None:
        """An engine whose heartbeat stopped (hung, paused) fails the day like a crash."""
        limit = self.plan.watch.heartbeat_limit_s
        for service in running:
            for engine in self.plan.engines_of(service):
                found = heartbeat_age(self.plan.paths, engine, self._began, time.time())
                if found is None:
                    continue
                age, beaten = found
                if age > (limit if beaten else max(limit, FIRST_BEAT_S)):
                    log.error(
                        "engine %s (service %s): no heartbeat for %.0f s (limit controller.heartbeat_limit_s "
                        "= %.0f s): it is hung or paused; stopping the day",
                        engine, service, age, limit,
                    )  # fmt: skip
                    seen.failed, seen.hung = service, True
                    return

    def _drain(self, watcher: ExitWatcher, running: dict[str, Started], poll: bool) -> list[Exited]:
        """Exit events from the stream; every couple of seconds also ask Docker directly, so a lost event
        cannot leave the controller waiting forever."""
        found: dict[str, Exited] = {}
        try:
            event = watcher.exits.get(timeout=0.25)
            while True:
                if event.service in running and event.container_id == running[event.service].container.id:
                    found[event.service] = event
                event = watcher.exits.get_nowait()
        except queue.Empty:
            pass
        if poll:
            for service, s in running.items():
                exited = None if service in found else self.compose.exited(service, s.container)
                if exited is not None:
                    found[service] = exited
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
            log.error("docker stop failed: %s", docker_text(exc))
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
            relative = f"logs/{self.plan.day.isoformat()}/{s.service}.log"
            try:
                write_file(
                    self.plan.paths.root, relative, self.compose.logs(s.container).encode(), self.plan.owner
                )
            except (OSError, DockerException) as exc:
                log.warning("could not save the logs of %s: %s", s.service, docker_text(exc))

    def _record(
        self, started: list[Started], seen: Watch, ended_by: EndedBy, started_at: datetime
    ) -> dict[str, Any]:
        by_service = {s.service: s for s in started}
        engines: dict[str, Any] = {}
        for engine in self.plan.engines:
            service = self.plan.service_of(engine)
            s = by_service.get(service)
            engines[engine] = {
                "service": service,
                "container": s.container.name if s else None,
                "container_id": s.container.id if s else None,
                "exit_code": seen.exits.get(service),
                "restarts": seen.restarts.get(service, []),
            }
        record = {
            "date": self.plan.day.isoformat(),
            "layout": self.plan.layout.value,
            "project": self.compose.project_name,
            "started_at": started_at.isoformat(),
            "ended_at": now_ist().isoformat(),
            "ended_by": ended_by.value,
            "engines": engines,
            "exit_code": 1 if ended_by in FAILED else 0,  # completed with the EOD job's once it has run
            "eod_exit_code": None,
        }
        self._write_record(record)
        return record

    def _write_record(self, record: dict[str, Any]) -> None:
        path = self.plan.paths.session_outcome(self.plan.day)
        relative = path.relative_to(self.plan.paths.root).as_posix()
        data = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        write_file(self.plan.paths.root, relative, data, self.plan.owner, durable=True)

    def _run_eod(self, watcher: ExitWatcher | None) -> int:
        began = time.monotonic()
        self.timings.mark("eod started")
        log.info("running the end-of-day job (one-shot eod container)")
        code, output = self.compose.run_once("eod")
        for line in output.strip().splitlines():
            log.info("eod | %s", line)
        self.timings.mark("eod done")
        # compose run --rm hides its container: the event names it
        exited = watcher.next_exit("eod", timeout_s=3.0) if watcher is not None else None
        if exited is not None:
            log.info(
                "eod: one-shot container %s (id %s) exited %d",
                exited.name,
                exited.container_id[:12],
                exited.exit_code,
            )
        if code != 0:
            log.error("the end-of-day job exited with code %d", code)
            return code
        log.info("end-of-day job finished in %.1f s", time.monotonic() - began)
        return 0


def docker_text(exc: BaseException) -> str:
    """A docker failure in a line: its stderr, or that it timed out."""
    if isinstance(exc, DockerException):
        if exc.return_code == 124:
            return f"docker did not answer in time: {' '.join(exc.docker_command[-3:])}"
        return (exc.stderr or str(exc)).strip()
    return str(exc)
