"""KiteEmulator: the emulator in a background thread of the calling process, for tests.

    with KiteEmulator(api_key="k", api_secret="s", request_tokens=["r1"], speed=5) as emu:
        kite = KiteConnect("k", root=emu.rest_root)
        ticker = KiteTicker("k", access_token, root=emu.ws_root)
        emu.fault("drop"); emu.log(); emu.health()

The server runs on its own asyncio loop in a daemon thread on 127.0.0.1 (a free port by default); the
methods here hand their work to that loop and wait for it. Building the market takes a few seconds (the
simulator and the tape's first step), so share one emulator among the tests of a module.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import date, time
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from pydantic import SecretStr

from engines.kite.emulator.config import MARKET_OPEN, Credentials, EmulatorConfig
from engines.kite.emulator.reqlog import LogValue
from engines.kite.emulator.server import EmulatorServer

T = TypeVar("T")
START_TIMEOUT_S = 60.0


class KiteEmulator:
    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        request_tokens: Sequence[str] = (),
        access_token: str | None = None,
        date: date | None = None,
        seed: int = 7,
        speed: float = 1.0,
        start_time: time = MARKET_OPEN,
        heartbeat_s: float = 2.0,
        max_connections: int = 3,
        log_path: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        credentials = Credentials(
            api_key=SecretStr(api_key),
            api_secret=SecretStr(api_secret),
            access_token=SecretStr(access_token) if access_token else None,
            request_tokens=tuple(SecretStr(t) for t in request_tokens),
        )
        config = EmulatorConfig(
            credentials=credentials,
            host=host,
            port=port,
            day=date,
            seed=seed,
            speed=speed,
            start_time=start_time,
            heartbeat_s=heartbeat_s,
            max_connections=max_connections,
            log_path=log_path,
        )
        self.server = EmulatorServer(config)
        self._host = host
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kite-emulator", daemon=True)

    def start(self) -> KiteEmulator:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError(f"the Kite emulator did not start within {START_TIMEOUT_S:.0f} s")
        if self._error is not None:
            raise RuntimeError(
                f"the Kite emulator failed to start: {type(self._error).__name__}"
            ) from self._error
        return self

    def close(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=10)

    def __enter__(self) -> KiteEmulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- what tests use ----------------------------------------------------------------------------

    @property
    def rest_root(self) -> str:
        return f"http://{self._host}:{self.server.port}"

    @property
    def ws_root(self) -> str:
        return f"ws://{self._host}:{self.server.port}"

    def fault(self, name: str) -> dict[str, int | bool]:
        """Inject a fault (faults.py): drop, silent, resume, expire, malformed."""
        return self._call(lambda: self.server.fault(name))

    def log(self) -> list[dict[str, LogValue]]:
        return self.server.reqlog.entries()

    def health(self) -> dict[str, object]:
        return self._call(self.server.health)

    @property
    def step(self) -> int:
        """The tape's current simulator step (market seconds since the open, in this cycle)."""
        return self._call(lambda: self.server.tape.position[1])

    # --- the loop thread ---------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server's loop (its state belongs to that thread) and return its result."""
        if self._loop is None:
            raise RuntimeError("the Kite emulator is not running")

        async def call() -> T:
            return fn()

        future: Future[T] = asyncio.run_coroutine_threadsafe(call(), self._loop)
        return future.result(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:  # handed to start() in the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.server.stop()
