"""The `session` command. `session run`: pre-market checks, the engines in containers, watching,
stopping, end of day. `session login`: the day's Kite access token (session/login.py).

Exit codes of `run`: 0 the day ran (to the close, or stopped on SIGTERM/SIGINT) and the report was
written; 1 an engine or the end-of-day job failed; 2 usage error; 3 a pre-market check failed (nothing
started). `login`'s are in session/login.py.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engines.artifacts.layout import ArtifactPaths
from engines.config import Config, FeedKind, load_config
from engines.errors import ConfigError
from engines.logs import setup_logging
from session.checks import CheckContext, Status, run_checks
from session.compose import Compose
from session.controller import DayPlan, DayRun, Layout, Timings, services_for
from session.login import login

log = logging.getLogger("session")
PROJECT_DIR = Path(__file__).resolve().parents[1]
CONTAINER_UID = CONTAINER_GID = 10001  # docker/Dockerfile's user
CHECKS_FAILED = 3
ARCHIVE = "archive"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="session", description="Run a Paperfleet trading day.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="checks, engines in containers, end-of-day report",
        description="Run one trading day: pre-market checks, the engines in Docker containers, a live "
        "status line, then the end-of-day report.",
        epilog="Exit codes: 0 day done and reported, 1 an engine or the EOD job failed, 2 usage error, "
        "3 a pre-market check failed (nothing started).",
    )
    run.add_argument("--mode", choices=["paper"], default="paper", help="trading mode (default: %(default)s)")
    run.add_argument("--config", type=Path, default=Path("configs/dev.yaml"), help="(default: %(default)s)")
    run.add_argument(
        "--layout",
        choices=[layout.value for layout in Layout],
        default=Layout.SINGLE.value,
        help="single: one container, one thread per engine; multi: one container per engine "
        "(default: %(default)s)",
    )
    run.add_argument("--dry-run", action="store_true", help="run the checks and start nothing")
    run.add_argument(
        "--fresh",
        action="store_true",
        help="move what artifacts/ holds into artifacts/archive/<time>/ first, so the day runs "
        "from scratch (nothing is deleted)",
    )
    run.add_argument(
        "--speed", help="simulated speed: a multiple of real time, or 'max' (default: the config's)"
    )
    run.add_argument("--date", help="trading date YYYY-MM-DD (default: the config's, else the last weekday)")
    run.add_argument(
        "--project-name",
        default=os.environ.get("COMPOSE_PROJECT_NAME", "paperfleet"),
        help="Docker Compose project name (default: %(default)s)",
    )
    login = commands.add_parser(
        "login",
        help="log in to Kite and write the day's access token into the secrets file",
        description="Print Kite's login URL, take the request_token from the redirect that follows the "
        "login, exchange it for an access token (signed with api_secret) and write the token atomically, "
        "mode 0600, into the config's secrets file (market_data.kite.secrets_file in secrets_dir) with "
        "when it was issued and for which api_key. The token expires at 06:00 IST the next morning: log "
        "in once per trading day, after 06:00.",
        epilog="Exit codes: 0 token written, 1 Kite refused the request token or could not be reached "
        "(nothing written), 2 usage, config or secrets-file problem.",
    )
    login.add_argument("--config", type=Path, default=Path("configs/dev.yaml"), help="(default: %(default)s)")
    login.add_argument(
        "request_token",
        nargs="?",
        help="the request_token from the redirect URL (or the whole URL). Omitted: asked for without echo "
        "on a terminal, else read as one line from standard input. Given here it shows in the process "
        "list and the shell history; that is acceptable only because a request token works once, and "
        "for a few minutes",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    timings = Timings(time.monotonic())
    args = _parser().parse_args(argv)
    setup_logging(os.environ.get("PAPERFLEET_LOG_LEVEL", "INFO"))
    if args.command == "login":
        return login_command(args)
    return run(args, timings)


def login_command(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        log.error("%s", exc)
        return ConfigError.exit_code
    return login(config, args.request_token)


def run(args: argparse.Namespace, timings: Timings) -> int:
    overrides: dict[str, Any] = {}
    if args.speed is not None:
        overrides["market_data.sim.speed"] = args.speed
    if args.date is not None:
        overrides["market_data.sim.date"] = args.date
    config: Config | None = None
    config_error = None
    try:
        config = load_config(args.config, overrides)
    except ConfigError as exc:
        config_error = str(exc)
    uid, gid = (CONTAINER_UID, CONTAINER_GID) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    layout = Layout(args.layout)
    engines = tuple(e.value for e in config.engines.enabled()) if config else ()
    compose = Compose(PROJECT_DIR, args.project_name, _compose_env(args, config, uid, gid))

    results = run_checks(
        CheckContext(
            PROJECT_DIR,
            args.config,
            config,
            config_error,
            services_for(layout, engines),
            compose,
            uid,
            gid,
            args.dry_run,
        )
    )
    for result in results:
        level = {Status.PASS: logging.INFO, Status.WARN: logging.WARNING, Status.FAIL: logging.ERROR}[
            result.status
        ]
        log.log(level, "check %-10s %s: %s", result.name, result.status.value.upper(), result.reason)
    timings.mark("checks done")
    failed = [r.name for r in results if r.status is Status.FAIL]
    if failed:
        log.error("pre-market checks failed (%s): nothing started", ", ".join(failed))
        return CHECKS_FAILED
    assert config is not None  # the config check passed
    if args.dry_run:
        log.info("dry run: checks passed, nothing started")
        return 0

    day = config.market_data.sim.trading_date()
    paths = ArtifactPaths(config.artifacts_dir.resolve())
    if args.fresh:
        archived = archive_artifacts(paths.root)
        if archived is not None:
            log.info("--fresh: moved the previous artifacts to %s", archived)
    log.info(
        "trading day %s, layout %s, engines %s, speed %s",
        day,
        layout.value,
        ", ".join(engines),
        args.speed or "from the config",
    )
    code = DayRun(DayPlan(day, layout, engines, paths, uid, gid), compose, timings).run()
    report = paths.daily_report(day, "json")
    if report.exists():
        log.info("report: %s", report)
        print(report)
    return code


def archive_artifacts(root: Path) -> Path | None:
    """Move every artifact (not the archive itself, nor the README) into archive/<UTC time>/."""
    entries = [p for p in root.iterdir() if p.name not in (ARCHIVE, "README.md")]
    if not entries:
        return None
    target = root / ARCHIVE / datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target.mkdir(parents=True)
    for entry in entries:
        entry.rename(target / entry.name)
    return target


def _compose_env(args: argparse.Namespace, config: Config | None, uid: int, gid: int) -> dict[str, str]:
    """compose.yaml's variables for this run (paths are absolute: compose resolves them itself)."""
    env = {
        "PAPERFLEET_CONFIG_DIR": str(args.config.resolve().parent),
        "PAPERFLEET_CONFIG_FILE": args.config.name,
        "PAPERFLEET_SPEED": args.speed or "",
        "PAPERFLEET_UID": str(uid),
        "PAPERFLEET_GID": str(gid),
    }
    if config is not None:
        config.secrets_dir.mkdir(parents=True, exist_ok=True)  # else compose creates it root-owned
        env |= {
            "PAPERFLEET_ARTIFACTS_DIR": str(config.artifacts_dir.resolve()),
            "PAPERFLEET_SECRETS_DIR": str(config.secrets_dir.resolve()),
            "PAPERFLEET_DATE": config.market_data.sim.trading_date().isoformat(),
            "PAPERFLEET_NETWORK_MODE": "none" if config.market_data.feed is FeedKind.SIM else "bridge",
        }
    return env


if __name__ == "__main__":
    sys.exit(main())
