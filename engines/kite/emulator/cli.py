"""`python -m engines.kite.emulator`: serve Kite's REST API and ticker from the simulator until a SIGTERM.

When it listens it prints one JSON line on stdout, `{"rest_root": ..., "ws_root": ..., "port": ...,
"date": ...}`, so a caller that asked for port 0 learns the port. Credentials come from a file only
(config.py): never from options, which other users can read in the process list.
Exit codes (engines/errors.py): 0 stopped on a signal, 1 runtime failure, 2 configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path

from engines.errors import ConfigError, ExitCode
from engines.kite.emulator.config import MARKET_OPEN, EmulatorConfig, load_credentials
from engines.kite.emulator.reqlog import RedactingFormatter
from engines.kite.emulator.server import EmulatorServer

log = logging.getLogger("kite-emulator")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m engines.kite.emulator",
        description="A Kite Connect emulator (REST + KiteTicker WebSocket) driven by the market simulator.",
    )
    p.add_argument(
        "--credentials",
        type=Path,
        required=True,
        help="YAML/JSON file: api_key, api_secret, access_token and/or request_tokens",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind; 0.0.0.0 in a container (default: %(default)s)"
    )
    p.add_argument(
        "--port", type=int, default=0, help="port; 0 picks a free one and reports it (default: %(default)s)"
    )
    p.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="trading day to simulate, YYYY-MM-DD (default: the last trading day, IST)",
    )
    p.add_argument("--seed", type=int, default=7, help="simulator seed (default: %(default)s)")
    p.add_argument(
        "--speed", type=float, default=1.0, help="market seconds per wall second (default: %(default)s)"
    )
    p.add_argument(
        "--start-time",
        type=_clock_time,
        default=MARKET_OPEN,
        help="market time IST at start, HH:MM[:SS] (default: 09:15; later starts take seconds to build)",
    )
    p.add_argument(
        "--heartbeat",
        type=float,
        default=2.0,
        help="seconds between 1-byte heartbeats on an idle ticker socket (default: %(default)s)",
    )
    p.add_argument(
        "--max-connections", type=int, default=3, help="ticker sockets allowed (default: %(default)s)"
    )
    p.add_argument("--log", type=Path, default=None, help="request log, JSON lines (default: none)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def _clock_time(text: str) -> time:
    for pattern in ("%H:%M:%S", "%H:%M"):
        try:
            return datetime.strptime(text, pattern).time()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"{text!r} is not a time of day HH:MM[:SS]")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    logging.basicConfig(level=args.log_level, handlers=[handler])
    try:
        config = EmulatorConfig(
            credentials=load_credentials(args.credentials),
            host=args.host,
            port=args.port,
            day=args.date,
            seed=args.seed,
            speed=args.speed,
            start_time=args.start_time,
            heartbeat_s=args.heartbeat,
            max_connections=args.max_connections,
            log_path=args.log,
        )
        server = EmulatorServer(config)
    except ConfigError as exc:
        print(f"kite emulator: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s | %(message)s", server.redactor)
    )
    try:
        asyncio.run(_serve(server))
    except OSError as exc:
        log.error("cannot serve on %s:%d: %s", args.host, args.port, exc.strerror)
        return ExitCode.FAILURE
    return ExitCode.OK


async def _serve(server: EmulatorServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    port = await server.start()
    host = server.config.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    ready = {
        "rest_root": f"http://{shown}:{port}",
        "ws_root": f"ws://{shown}:{port}",
        "host": host,
        "port": port,
        "date": server.market.session.day.isoformat(),
    }
    print(json.dumps(ready), flush=True)
    await stop.wait()
    log.info("stopping")
    await server.stop()
