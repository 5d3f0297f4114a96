"""The `session` command:

- `session run`: pre-market checks, the engines in containers, watching, stopping, end of day.
  Exit codes: 0 the day ran (to the close, or stopped on SIGTERM/SIGINT) and the report was written;
  1 an engine or the end-of-day job failed; 2 usage error; 3 a pre-market check failed (nothing started).
- `session login`: the day's Kite access token (exit codes in session/login.py).
- `session report`: the summary of a day's report in the terminal (0, or 2 when there is no report).
- `session status`: each engine's state from its heartbeat, and who holds the day (0, 2 config error).
- `session backtest`: days and parameter sets replayed in parallel, each reported, then compared
  (0 every run reported, 1 a run failed, 2 usage error).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from python_on_whales import DockerException

from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.lock import LOCKS, TOKEN_VARIABLE, ArtifactsBusy, ArtifactsLock, session_holder
from engines.artifacts.nofollow import move_entries, read_file
from engines.config import Config, EngineName, FeedKind, load_config
from engines.errors import ConfigError
from engines.logs import setup_logging
from session.checks import CheckContext, Status, run_checks
from session.compose import Compose
from session.controller import STOP_GRACE_S, DayPlan, DayRun, Layout, Timings, docker_text, services_for
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
    _report_parser(commands)
    _backtest_parser(commands)
    status = commands.add_parser(
        "status",
        help="each engine's state, from another terminal",
        description="Each enabled engine's state, heartbeat age, market time, orders, net P&L and last "
        "error (from its heartbeat), and which session holds the artifacts directory.",
        epilog="Exit codes: 0 printed, 2 usage or config error.",
    )
    status.add_argument(
        "--config", type=Path, default=Path("configs/dev.yaml"), help="(default: %(default)s)"
    )
    status.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    return parser


def _report_parser(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="print a day's end-of-day report summary",
        description="Print the summary of reports/daily/<date>.json (written by the end-of-day job).",
        epilog="Exit codes: 0 printed, 2 no such report or usage error.",
    )
    report.add_argument("--date", help="trading date YYYY-MM-DD (default: the latest report)")
    report.add_argument(
        "--artifacts", type=Path, help="artifacts directory (default: the config's artifacts_dir)"
    )
    report.add_argument(
        "--config", type=Path, default=Path("configs/dev.yaml"), help="(default: %(default)s)"
    )


def _backtest_parser(commands: Any) -> None:
    backtest = commands.add_parser(
        "backtest",
        help="replay days with parameter sets in parallel and compare them",
        description="Replay one or several days (recorded, else simulated) through the engines' strategies, "
        "risk and execution, for one or several parameter sets, in parallel across the cores; write each "
        "run's daily report and a comparison across the sets.",
        epilog="Example: session backtest --from 2026-11-23 --to 2026-11-27 --engines fno "
        "--grid engines.fno.params.fast_ema=5,9. Exit codes: 0 every run reported, 1 a run failed, "
        "2 usage error.",
    )
    backtest.add_argument(
        "--config", type=Path, default=Path("configs/dev.yaml"), help="(default: %(default)s)"
    )
    backtest.add_argument("--date", action="append", default=[], help="a day YYYY-MM-DD (repeatable)")
    backtest.add_argument("--from", dest="first", help="every trading day from this one ...")
    backtest.add_argument("--to", dest="last", help="... to this one (inclusive)")
    backtest.add_argument(
        "--engines", help="comma-separated engines, e.g. fno,options (default: the config's enabled ones)"
    )
    backtest.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a config key in every set, e.g. engines.fno.params.fast_ema=5 (repeatable)",
    )  # fmt: skip
    backtest.add_argument(
        "--grid", action="append", default=[], metavar="KEY=V1,V2",
        help="one parameter set per value; several grids multiply (repeatable)",
    )  # fmt: skip
    backtest.add_argument(
        "--jobs", type=int, default=-1, help="parallel processes; -1 one per core (default: %(default)s)"
    )
    backtest.add_argument(
        "--artifacts", type=Path,
        help="the paper days' artifacts, for recordings and the diff (default: the config's artifacts_dir)",
    )  # fmt: skip
    backtest.add_argument(
        "--out", type=Path, help="output directory (default: <artifacts>/backtest/runs/<UTC time>/)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    timings = Timings(time.monotonic())
    args = _parser().parse_args(argv)
    setup_logging(os.environ.get("PAPERFLEET_LOG_LEVEL", "INFO"))
    if args.command == "login":
        return login_command(args)
    try:
        if args.command == "report":
            return report(args)
        if args.command == "backtest":
            return backtest(args)
        if args.command == "status":
            return status(args)
    except ConfigError as exc:
        log.error("usage error: %s", exc)
        return 2
    return run(args, timings)


def _artifacts(args: argparse.Namespace) -> Path:
    if args.artifacts is not None:
        return Path(args.artifacts)
    return load_config(args.config).artifacts_dir


def report(args: argparse.Namespace) -> int:
    """Print the summary of a written report (the latest one without --date)."""
    import json

    from session.eod.summary import summary_text

    root = _artifacts(args)
    directory = ArtifactPaths(root).daily_report(date(2000, 1, 1), "json").parent
    if args.date is None:
        reports = sorted(directory.glob("????-??-??.json"))
        if not reports:
            raise ConfigError(
                f"{directory}: no report yet; run the day (session run) or the end-of-day job "
                "(python -m session.eod --date YYYY-MM-DD)"
            )
        path = reports[-1]
    else:
        path = directory / f"{args.date}.json"
        if not path.exists():
            raise ConfigError(
                f"{path}: no report for {args.date}; write it with python -m session.eod --date {args.date}"
            )
    try:
        data = json.loads(read_file(root, path.relative_to(root).as_posix()))  # never through a link
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: cannot read the report ({exc}); write it again with python -m session.eod"
        ) from None
    if data.get("schema") != 2:
        raise ConfigError(
            f"{path}: report schema {data.get('schema')!r}, this version reads 2; write it again"
        )
    sys.stdout.write(summary_text(data, str(path.with_suffix(".md"))))
    return 0


def status(args: argparse.Namespace) -> int:
    import json

    from session.status import engine_status, status_text

    config = load_config(args.config)
    paths = ArtifactPaths(config.artifacts_dir)
    holder = session_holder(paths.root)
    rows = engine_status(paths, [e.value for e in config.engines.enabled()], time.time())
    if args.json:
        held_by = {k: v for k, v in asdict(holder).items() if k != "token"} if holder else None
        print(json.dumps({"artifacts": str(paths.root), "held_by": held_by, "engines": rows}, indent=2))
    else:
        sys.stdout.write(status_text(holder.describe() if holder else None, rows))
    return 0


def backtest(args: argparse.Namespace) -> int:
    """Plan every (parameter set, day), check each config, run them in parallel, report, compare."""
    from session.backtest.plan import Run, check, param_sets, trading_days
    from session.backtest.run import comparison, run_all, write_comparison

    config = load_config(args.config)
    root = Path(args.artifacts) if args.artifacts else config.artifacts_dir
    names = None
    if args.engines:
        try:
            names = tuple(EngineName(n.strip()) for n in args.engines.split(","))
        except ValueError:
            raise ConfigError(
                f"--engines {args.engines!r}: known engines are {', '.join(e.value for e in EngineName)}"
            ) from None
    days = trading_days(args.date, args.first, args.last, config.trading_date())
    sets = param_sets(args.set, args.grid)
    out = args.out or root / "backtest" / "runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    runs = [
        Run(s, day, out / s.name / day.isoformat(), args.config, names, root) for s in sets for day in days
    ]
    check(runs)
    log.info("%d run(s): %d parameter set(s) x %d day(s), into %s", len(runs), len(sets), len(days), out)
    began = time.monotonic()
    outcomes = run_all(runs, args.jobs)
    wall, cpu = time.monotonic() - began, sum(o.cpu_s for o in outcomes)
    log.info(
        "%d run(s) in %.1f s: %.1f s of CPU in %d worker process(es), %.1f cores busy on average",
        len(outcomes), wall, cpu, len({o.pid for o in outcomes}), cpu / wall if wall else 0.0,
    )  # fmt: skip
    data = {**comparison(outcomes, days), "out": str(out)}
    path = write_comparison(out, data)
    for failed in (o for o in outcomes if "error" in o.summary):
        log.error("%s on %s failed: %s", failed.run.param_set.name, failed.run.day, failed.summary["error"])
    for s in data["sets"]:
        log.info("%s (%s): net %s over %d day(s)", s["name"], s["overrides"], s["net_pnl_rupees"], s["days"])
    print(path)
    return 1 if any("error" in o.summary for o in outcomes) else 0


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
    compose = Compose(
        PROJECT_DIR, args.project_name, _compose_env(args, config, uid, gid), compose_overrides(config)
    )
    lock = None
    if config is not None:
        try:
            lock = take_the_day(config.artifacts_dir.resolve(), compose, (uid, gid))
        except ArtifactsBusy as exc:
            log.error("refused: %s", exc)
            return int(exc.exit_code)
        os.environ[TOKEN_VARIABLE] = lock.token or ""  # compose hands it to the engines (compose.yaml)
    try:
        return _day(args, timings, config, config_error, compose, uid, gid)
    finally:
        if lock is not None:
            lock.release()


def _day(
    args: argparse.Namespace,
    timings: Timings,
    config: Config | None,
    config_error: str | None,
    compose: Compose,
    uid: int,
    gid: int,
) -> int:
    """Checks, then the day, with the artifacts directory held."""
    layout = Layout(args.layout)
    engines = tuple(e.value for e in config.engines.enabled()) if config else ()
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

    day = config.trading_date()
    paths = ArtifactPaths(config.artifacts_dir.resolve())
    if args.fresh:
        archived = archive_artifacts(paths.root, (uid, gid))
        if archived is not None:
            log.info("--fresh: moved the previous artifacts to %s", archived)
    log.info(
        "trading day %s, layout %s, engines %s, speed %s",
        day,
        layout.value,
        ", ".join(engines),
        args.speed or "from the config",
    )
    plan = DayPlan(day, layout, engines, paths, uid, gid, config.controller)
    code = DayRun(plan, compose, timings).run()
    report = paths.daily_report(day, "json")
    if report.exists():
        log.info("report: %s", report)
        print(report)
    return code


def take_the_day(root: Path, compose: Compose, owner: tuple[int, int]) -> ArtifactsLock:
    """The artifacts directory's session lock (ArtifactsBusy when another run holds it). A controller that
    died left its engines running: they are stopped (they checkpoint on SIGTERM) and removed, and this run's
    engines resume the day from their journals."""
    root.mkdir(parents=True, exist_ok=True)
    lock = ArtifactsLock.for_session(root, compose.project_name, owner)
    previous = lock.previous
    if previous is None or previous.project is None:
        return lock
    try:
        leftovers = compose.leftovers(previous.project)
        if leftovers:
            log.warning(
                "the previous controller (%s) died and left %s: stopping and removing them; this run's "
                "engines resume the day from their journals",
                previous.describe(),
                ", ".join(c.name for c in leftovers),
            )
            compose.remove(leftovers, STOP_GRACE_S)
    except DockerException as exc:  # the docker check says more; a leftover engine would refuse to start
        log.warning(
            "the previous controller (%s) died; its containers could not be listed: %s",
            previous.describe(),
            docker_text(exc),
        )
    return lock


def archive_artifacts(root: Path, owner: tuple[int, int]) -> Path | None:
    """Move every artifact (not the archive itself, the README or the locks) into archive/<UTC time>/,
    renaming entries as they are (a link moves as a link)."""
    entries = [p.name for p in root.iterdir() if p.name not in (ARCHIVE, LOCKS, "README.md")]
    if not entries:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    move_entries(root, entries, f"{ARCHIVE}/{stamp}", owner)
    return root / ARCHIVE / stamp


def compose_overrides(config: Config | None) -> list[str]:
    """The compose files laid over compose.yaml for this config (their headers say what each does)."""
    files = []
    if config is not None and config.strategies_dir is not None:
        files.append("docker/compose.strategies.yaml")
    if config is not None and config.market_data.feed is FeedKind.KITE:
        files.append("docker/compose.kite.yaml")
        if config.market_data.kite.emulator:
            files.append("docker/compose.kite-emulated.yaml")
    return files


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
            "PAPERFLEET_DATE": config.trading_date().isoformat(),
        }
        if config.strategies_dir is not None:
            env["PAPERFLEET_STRATEGIES_HOST_DIR"] = str(config.strategies_dir)
    return env


if __name__ == "__main__":
    sys.exit(main())
