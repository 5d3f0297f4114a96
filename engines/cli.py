"""Command line of the engines: `python -m engines.fno|engines.equity|engines.options` runs one engine,
`python -m engines` runs every enabled engine in one process (one thread each).

Exit codes (docs/contract.md): 0 the day finished or the engine stopped cleanly on SIGTERM/SIGINT,
1 runtime failure, 2 configuration or usage error, 4 the live feed failed.

In a container the environment says where the mounts are (compose.yaml): PAPERFLEET_SECRETS (the secrets
directory), and, with the Kite emulator as a service, PAPERFLEET_KITE_API_ROOT and PAPERFLEET_KITE_WS_ROOT
(the emulator's name on the project's network; the host reaches it on loopback, as the config says).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from engines.artifacts.lock import ArtifactsBusy
from engines.config import EngineName, load_config
from engines.errors import ConfigError, PaperfleetError
from engines.logs import add_log_level, setup_logging
from engines.runner import run_engines

log = logging.getLogger("engines")
ENVIRONMENT_OVERRIDES = {
    "PAPERFLEET_SECRETS": "secrets_dir",
    "PAPERFLEET_KITE_API_ROOT": "market_data.kite.api_root",
    "PAPERFLEET_KITE_WS_ROOT": "market_data.kite.ws_root",
}


def _parser(engine: EngineName | None) -> argparse.ArgumentParser:
    what = f"the {engine.value} engine" if engine else "every enabled engine in one process, one thread each"
    parser = argparse.ArgumentParser(
        prog=f"python -m engines{'.' + engine.value if engine else ''}",
        description=f"Paper-trade one NSE session with {what}.",
        epilog="Exit codes: 0 day finished or clean stop on SIGTERM/SIGINT, 1 runtime failure, "
        "2 config/usage error, 4 the live feed failed. PAPERFLEET_CONFIG, PAPERFLEET_SPEED, "
        "PAPERFLEET_DATE and PAPERFLEET_ARTIFACTS give defaults.",
    )
    env = os.environ.get
    parser.add_argument(
        "--config",
        default=env("PAPERFLEET_CONFIG", "configs/dev.yaml"),
        help="config file (default: %(default)s)",
    )
    parser.add_argument(
        "--mode",
        choices=["paper"],
        default="paper",
        help="trading mode; paper is the only one (default: %(default)s)",
    )
    parser.add_argument(
        "--speed",
        default=env("PAPERFLEET_SPEED") or None,
        help="simulated speed: a multiple of real time, or 'max' (default: from the config)",
    )
    parser.add_argument(
        "--date",
        default=env("PAPERFLEET_DATE") or None,
        help="trading date YYYY-MM-DD (default: from the config, else the last weekday)",
    )
    parser.add_argument(
        "--artifacts",
        default=env("PAPERFLEET_ARTIFACTS") or None,
        help="artifacts directory (default: from the config)",
    )
    if engine is None:
        parser.add_argument(
            "--engines",
            default=None,
            help="comma-separated subset, e.g. fno,options (default: the enabled ones)",
        )
    add_log_level(parser)
    return parser


def main(engine: EngineName | None, argv: Sequence[str] | None = None) -> int:
    args = _parser(engine).parse_args(argv)  # usage errors exit 2 here
    setup_logging(args.log_level)
    try:
        overrides: dict[str, Any] = {}
        if args.speed is not None:
            overrides["market_data.sim.speed"] = args.speed
        if args.date is not None:
            overrides["market_data.sim.date"] = args.date
        if args.artifacts is not None:
            overrides["artifacts_dir"] = args.artifacts
        for variable, key in ENVIRONMENT_OVERRIDES.items():
            if value := os.environ.get(variable):
                overrides[key] = value
        config = load_config(args.config, overrides)
        names = _selected(engine, getattr(args, "engines", None), config.engines.enabled())
        return int(run_engines(names, config))
    except PaperfleetError as exc:
        label = {ConfigError: "config error", ArtifactsBusy: "refused"}.get(type(exc), "failed")
        log.error("%s: %s", label, exc)
        return int(exc.exit_code)


def _selected(
    engine: EngineName | None, subset: str | None, enabled: tuple[EngineName, ...]
) -> tuple[EngineName, ...]:
    if engine is not None:
        return (engine,)
    if subset is None:
        return enabled
    names = []
    for part in subset.split(","):
        try:
            names.append(EngineName(part.strip()))
        except ValueError:
            raise ConfigError(
                f"--engines: {part.strip()!r} is not an engine (engines: "
                f"{', '.join(e.value for e in EngineName)})"
            ) from None
    return tuple(names)


def run(engine: EngineName | None) -> None:
    sys.exit(main(engine))
