"""The controller's one door to Docker: the project's compose services and their container events,
through python-on-whales.

Compose reads its variables (compose.yaml's PAPERFLEET_*) from this process's environment, which
python-on-whales passes to every docker command it runs; `.env` still supplies the base image.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from python_on_whales import Container, DockerClient, DockerException

log = logging.getLogger("session")
# Timeouts of docker calls: inspect, ps, logs, stop (its grace included), down; compose up (images exist by
# then: containers start in seconds); the one-shot end-of-day job (its backtest replays the whole day).
CALL_TIMEOUT_S = 60
UP_TIMEOUT_S = 300
EOD_TIMEOUT_S = 1800


@dataclass(frozen=True, slots=True)
class Started:
    service: str
    container: Container

    @property
    def command(self) -> str:
        config = self.container.config
        return " ".join([*(config.entrypoint or []), *(config.cmd or [])])


@dataclass(frozen=True, slots=True)
class Exited:
    service: str
    name: str
    container_id: str
    exit_code: int
    at: datetime | None = None  # when it exited (a restarted container exits again later)


class Compose:
    def __init__(
        self,
        project_dir: Path,
        project_name: str,
        env: Mapping[str, str],
        overrides: Sequence[str] = (),
    ) -> None:
        """`overrides`: compose files (relative to `project_dir`) laid over compose.yaml, in order."""
        os.environ.update(env)
        self.project_name = project_name
        self.files = ["compose.yaml", *overrides]

        # Every profile is active: the controller always names the services it starts, and the profiled
        # ones (single, eod) must be visible to config, run and down.
        def client(timeout_s: int) -> DockerClient:
            # Every docker call ends: coreutils `timeout` ends a CLI call that hangs (a stuck daemon), which
            # then fails as a DockerException with exit code 124.
            return DockerClient(
                client_call=["timeout", "--kill-after=5", str(timeout_s), "docker"],
                compose_files=[project_dir / name for name in self.files],
                compose_project_directory=project_dir,
                compose_project_name=project_name,
                compose_profiles=["single", "eod"],
            )

        self.docker = client(CALL_TIMEOUT_S)
        self._up = client(UP_TIMEOUT_S)
        self._eod = client(EOD_TIMEOUT_S)

    # --- checks --------------------------------------------------------------------------------

    def versions(self) -> tuple[str, str]:
        """(engine version, compose version); raises DockerException when either does not answer."""
        server = self.docker.version().server
        engine = server.version if server is not None else None
        if not engine:
            raise DockerException(["docker", "version"], 1, stderr=b"the Docker engine did not answer")
        return str(engine), self.docker.compose.version()

    def images(self, services: Sequence[str]) -> dict[str, str]:
        """The image of each service, as compose.yaml names it."""
        declared = self.docker.compose.config().services or {}
        return {s: str(declared[s].image) for s in services}

    def running_services(self) -> list[str]:
        """Services of this project with a running container (a day already in progress)."""
        return sorted(
            {
                (c.config.labels or {}).get("com.docker.compose.service", c.name)
                for c in self.docker.compose.ps()
                if c.state.running
            }
        )

    def missing_images(self, services: Sequence[str]) -> list[str]:
        return [image for image in self.images(services).values() if not self.docker.image.exists(image)]

    # --- the day -------------------------------------------------------------------------------

    def up(self, services: Sequence[str]) -> list[Started]:
        self._up.compose.up(list(services), detach=True, quiet=True)
        started = []
        for container in self.docker.compose.ps(list(services), all=True):
            service = (container.config.labels or {}).get("com.docker.compose.service", container.name)
            started.append(Started(service, container))
        return sorted(started, key=lambda s: list(services).index(s.service))

    def stop(self, containers: Sequence[Container], grace_s: int) -> None:
        """SIGTERM, then SIGKILL after `grace_s` (docker stop), all at once."""
        if containers:
            self.docker.container.stop(list(containers), time=grace_s)

    def exited(self, service: str, container: Container) -> Exited | None:
        """The container's exit, or None while it runs."""
        container.reload()  # type: ignore[no-untyped-call]
        state = container.state
        if state.running or state.exit_code is None:
            return None
        return Exited(service, container.name, container.id, state.exit_code, state.finished_at)

    def start(self, container: Container) -> None:
        """Start an exited container again (same container: same mounts, logs and name)."""
        self.docker.container.start(container)

    def logs(self, container: Container) -> str:
        return str(self.docker.container.logs(container, timestamps=False))

    def run_once(self, service: str) -> tuple[int, str]:
        """`compose run --rm` a one-shot service; (exit code, its output)."""
        try:
            output = self._eod.compose.run(service, remove=True, tty=False)
        except DockerException as exc:
            return exc.return_code, (exc.stdout or "") + (exc.stderr or "")
        return 0, str(output)

    def leftovers(self, project: str) -> list[Container]:
        """The containers of a compose project, running or not (a dead controller's)."""
        label = f"com.docker.compose.project={project}"
        return list(self.docker.container.list(all=True, filters={"label": label}))

    def remove(self, containers: Sequence[Container], grace_s: int) -> None:
        """Stop (SIGTERM, then SIGKILL after `grace_s`) and remove."""
        if containers:
            self.docker.container.stop(list(containers), time=grace_s)
            self.docker.container.remove(list(containers), force=True)

    def down(self) -> None:
        self.docker.compose.down(remove_orphans=True, quiet=True)


class ExitWatcher:
    """Collects this project's container `die` events (exit codes included) into a queue, from a thread.

    It reads `docker events` in one-second windows (since = the previous window's end), so the stream
    has no gap and the thread ends by itself within a second of `close()`. The first window starts at
    `since`, before the containers start, so an engine that dies at once is not missed."""

    WINDOW = timedelta(seconds=1)

    def __init__(self, compose: Compose, since: datetime) -> None:
        self.exits: queue.Queue[Exited] = queue.Queue()
        self._docker = compose.docker
        self._filters = {
            "type": "container",
            "event": "die",
            "label": f"com.docker.compose.project={compose.project_name}",
        }
        self._cursor = since
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="docker-events", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while not self._closed.is_set():
            until = max(self._cursor, datetime.now(self._cursor.tzinfo)) + self.WINDOW
            try:
                for event in self._docker.system.events(
                    since=self._cursor, until=until, filters=self._filters
                ):
                    attributes = (event.actor.attributes if event.actor else None) or {}
                    self.exits.put(
                        Exited(
                            str(attributes.get("com.docker.compose.service", "?")),
                            str(attributes.get("name", "?")),
                            str(event.actor.id if event.actor else ""),
                            int(attributes.get("exitCode", -1)),
                            event.time,
                        )
                    )
            except DockerException as exc:  # the controller also polls exit codes: log and go on
                log.debug("docker events failed: %s", exc)
                self._closed.wait(self.WINDOW.total_seconds())
            self._cursor = until

    def next_exit(self, service: str, timeout_s: float) -> Exited | None:
        """The next exit of `service`, waiting up to `timeout_s`; other services' exits are dropped."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                exited = self.exits.get(timeout=left)
            except queue.Empty:
                return None
            if exited.service == service:
                return exited
        return None

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=3)
