"""Pre-market checks. Each reports pass, warn or fail with a reason; all of them run even when one
fails, so the operator sees every problem at once. A failure stops the day before any container starts.

    time        IST now, whether today is an NSE trading day, the session window
    filesystem  artifact directories exist, are writable by the container user, enough free disk
    secrets     only for the Kite feed: file present, api_key and api_secret non-empty, not world-readable
    config      the validated config model (and a feed the engines can run)
    token       only for the Kite feed: an access token issued for this api_key, since the last 06:00 IST
                expiry (and lasting through the session), that Kite's profile() accepts (a warning when
                Kite cannot be reached); the fix for every failure is `session login`
    docker      the engine answers, compose is there, the images are present (built when missing)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from python_on_whales import DockerException

from engines.artifacts.nofollow import give_tree
from engines.config import Config, FeedKind, SessionConfig
from engines.kite.secrets import SecretsError, load_kite_secrets, token_problem
from engines.market.calendar import NseCalendar, at_ist, now_ist
from session.compose import Compose

MIN_FREE_BYTES = 200 * 2**20
WARN_FREE_BYTES = 2 * 2**30


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: Status
    reason: str


@dataclass(frozen=True, slots=True)
class CheckContext:
    project_dir: Path
    config_path: Path
    config: Config | None  # None when it did not validate
    config_error: str | None
    services: tuple[str, ...]  # the layout's engine services
    compose: Compose
    uid: int  # the container user
    gid: int
    dry_run: bool


Check = Callable[[CheckContext], CheckResult]


def run_checks(ctx: CheckContext) -> list[CheckResult]:
    results = []
    for name, check in CHECKS:
        try:
            results.append(check(ctx))
        except Exception as exc:  # a check that breaks is a failed check, not a crashed controller
            results.append(CheckResult(name, Status.FAIL, f"check raised {type(exc).__name__}: {exc}"))
    return results


def _feed(ctx: CheckContext) -> FeedKind | None:
    return ctx.config.market_data.feed if ctx.config else None


def check_time(ctx: CheckContext) -> CheckResult:
    now = now_ist()
    session = ctx.config.session if ctx.config else SessionConfig()
    calendar = NseCalendar()
    known = now.year in calendar.rules.holiday_years
    trading = calendar.is_trading_day(now.date()) if known else now.weekday() < 5
    in_window = session.market_open_ist <= now.time() < session.market_close_ist
    closed = "" if trading else f" ({calendar.why_closed(now.date()) if known else 'a weekend'})"
    reason = (
        f"IST now {now:%Y-%m-%d %H:%M} ({now:%a}); {'an' if trading else 'not an'} NSE trading day{closed}; "
        f"session {session.market_open_ist:%H:%M}-{session.market_close_ist:%H:%M} "
        f"{'open' if in_window else 'closed'} now"
    )
    if not known:
        reason += f"; no NSE holiday list for {now.year} in engines/market/rules/holidays.csv"
    if _feed(ctx) is FeedKind.KITE:
        assert ctx.config is not None
        if now.time() >= session.market_close_ist:
            return CheckResult("time", Status.FAIL, f"{reason}: today's session is over, nothing to trade")
        if not trading and not ctx.config.market_data.kite.emulator:
            return CheckResult(
                "time", Status.FAIL, f"{reason}: the live feed has no market today, nothing started"
            )
        if not trading:
            reason += "; the Kite emulator streams on any day (market_data.kite.emulator)"
        if not in_window:
            reason += f": the engines wait for the open at {session.market_open_ist:%H:%M} IST"
        return CheckResult("time", Status.PASS, reason)
    if ctx.config is not None:
        reason += f"; simulating {ctx.config.trading_date()}"
    if trading and in_window:
        return CheckResult("time", Status.PASS, reason)
    return CheckResult("time", Status.WARN, f"{reason} (fine for the simulator)")


def check_filesystem(ctx: CheckContext) -> CheckResult:
    root = (ctx.config.artifacts_dir if ctx.config else Path("artifacts")).resolve()
    notes = []
    if not root.exists():
        if ctx.dry_run:
            return CheckResult(
                "filesystem", Status.WARN, f"{root} does not exist yet (a real run creates it)"
            )
        root.mkdir(parents=True)
        notes.append("created")
    misowned = [
        p
        for p in (root, *_live_artifacts(root))
        if (p.lstat().st_uid, p.lstat().st_gid) != (ctx.uid, ctx.gid)
    ]
    if misowned and os.geteuid() == 0:
        # As root, make the bind mount the container user's rather than fail later inside a container.
        if ctx.dry_run:
            notes.append(f"{len(misowned)} path(s) not owned by {ctx.uid}:{ctx.gid} (a real run fixes that)")
        else:
            changed = give_tree(root, (ctx.uid, ctx.gid), skip=("archive",))  # never through a link
            notes.append(f"gave {changed} path(s) to the container user {ctx.uid}:{ctx.gid}")
    elif misowned:
        unwritable = [
            str(p) for p in misowned if p.is_dir() and not _permits(p, ctx.uid, ctx.gid, WRITE | SEARCH)
        ]
        if unwritable:
            return CheckResult(
                "filesystem",
                Status.FAIL,
                f"not writable by the container user {ctx.uid}:{ctx.gid}: {', '.join(unwritable[:3])}; "
                f"run as root, or: sudo chown -R {ctx.uid}:{ctx.gid} {root}",
            )
    unreadable = _unreadable_config(ctx)
    if unreadable:
        return CheckResult(
            "filesystem",
            Status.FAIL,
            f"not readable by the container user {ctx.uid}:{ctx.gid} (mounted at /app/configs): "
            f"{', '.join(unreadable)}; run: chmod a+rX {' '.join(unreadable)}",
        )
    free = shutil.disk_usage(root).free
    reason = f"{root} for {ctx.uid}:{ctx.gid}; {free / 2**30:.1f} GiB free" + "".join(f"; {n}" for n in notes)
    if free < MIN_FREE_BYTES:
        return CheckResult(
            "filesystem", Status.FAIL, f"{reason} (need at least {MIN_FREE_BYTES // 2**20} MiB)"
        )
    return CheckResult("filesystem", Status.WARN if free < WARN_FREE_BYTES or notes else Status.PASS, reason)


def _live_artifacts(root: Path) -> list[Path]:
    """Everything under root but the archive (--fresh's old days, which no container writes); links are
    listed, never followed."""
    found = []
    for top, dirs, files in os.walk(root):  # os.walk does not descend into linked directories
        if Path(top) == root:
            dirs[:] = [d for d in dirs if d != "archive"]
            files = [f for f in files if f != "archive"]
        found += [Path(top, name) for name in [*dirs, *files]]
    return found


READ, WRITE, SEARCH = 4, 2, 1


def _permits(path: Path, uid: int, gid: int, wanted: int) -> bool:
    """Whether uid:gid (not root) may READ/WRITE/SEARCH `path`, by its mode bits."""
    st = path.stat()
    shift = 6 if st.st_uid == uid else 3 if st.st_gid == gid else 0
    return (st.st_mode >> shift) & wanted == wanted


def _unreadable_config(ctx: CheckContext) -> list[str]:
    """The config directory is mounted at /app/configs: the container user must read it and its files."""
    directory = ctx.config_path.resolve().parent
    if not directory.is_dir():
        return []
    files = [ctx.config_path.resolve()]
    if ctx.config is not None:
        files.append(directory / ctx.config.trading.equity_universe_csv)
    problems = [] if _permits(directory, ctx.uid, ctx.gid, READ | SEARCH) else [str(directory)]
    return problems + [str(f) for f in files if f.exists() and not _permits(f, ctx.uid, ctx.gid, READ)]


def check_secrets(ctx: CheckContext) -> CheckResult:
    if ctx.config is None:
        return CheckResult("secrets", Status.WARN, "skipped: the config did not validate")
    if ctx.config.market_data.feed is not FeedKind.KITE:
        return CheckResult("secrets", Status.PASS, "not needed: the feed is the simulator")
    path = ctx.config.kite_secrets_path
    try:
        load_kite_secrets(path)
    except SecretsError as exc:
        return CheckResult("secrets", Status.FAIL, str(exc))
    if not _permits(path, ctx.uid, ctx.gid, READ):
        return CheckResult(
            "secrets",
            Status.FAIL,
            f"{path}: not readable by the container user {ctx.uid}:{ctx.gid}; "
            f"run: chown {ctx.uid}:{ctx.gid} {path} && chmod 600 {path}",
        )
    return CheckResult("secrets", Status.PASS, f"{path}: api_key and api_secret present")


def check_config(ctx: CheckContext) -> CheckResult:
    if ctx.config is None:
        return CheckResult("config", Status.FAIL, ctx.config_error or "invalid")
    enabled = ", ".join(ctx.config.engines.enabled())
    return CheckResult(
        "config",
        Status.PASS,
        f"{ctx.config_path}: valid; engines {enabled}; "
        f"{len(ctx.config.trading.equity_universe)} equity symbols",
    )


def check_token(ctx: CheckContext) -> CheckResult:
    if ctx.config is None or ctx.config.market_data.feed is not FeedKind.KITE:
        return CheckResult("token", Status.PASS, "not needed: the feed is the simulator")
    path = ctx.config.kite_secrets_path
    fix = f"run: session login --config {ctx.config_path}"
    try:
        secrets = load_kite_secrets(path)
    except SecretsError:
        return CheckResult("token", Status.FAIL, "no usable secrets (see the secrets check)")
    now = now_ist()
    close = at_ist(now.date(), ctx.config.session.market_close_ist)
    problem = token_problem(secrets, path, now, needed_until=close if now < close else None)
    if problem is not None or secrets.access_token is None:
        return CheckResult("token", Status.FAIL, f"{problem or 'no access_token'}; {fix}")
    from kiteconnect import KiteConnect  # the host side only; imported when a Kite feed is configured
    from kiteconnect.exceptions import KiteException, PermissionException, TokenException
    from requests import RequestException

    api_root = ctx.config.market_data.kite.api_root
    kite = KiteConnect(
        secrets.api_key.get_secret_value(), secrets.access_token.get_secret_value(), root=api_root, timeout=5
    )
    issued = (
        "issued at an unknown time (not written by session login)"
        if secrets.issued_at is None or secrets.expires_at is None
        else f"issued {secrets.issued_at:%Y-%m-%d %H:%M} IST, expires {secrets.expires_at:%Y-%m-%d %H:%M} IST"
    )
    try:
        profile = kite.profile()
    except RequestException as exc:
        return CheckResult(
            "token",
            Status.WARN,
            f"not verified: Kite unreachable at {api_root} ({type(exc).__name__}); token {issued}",
        )
    except (TokenException, PermissionException) as exc:
        return CheckResult(
            "token",
            Status.FAIL,
            f"Kite refused the access token ({type(exc).__name__}, HTTP {exc.code}); {fix}",
        )
    except KiteException as exc:
        trouble = f"Kite answered {type(exc).__name__}, HTTP {exc.code}"
        if (exc.code or 0) >= 500:  # Kite's own trouble, as with a network failure: warn
            return CheckResult("token", Status.WARN, f"not verified: {trouble}; token {issued}")
        return CheckResult("token", Status.FAIL, f"{trouble} to profile(); {fix}")
    user = profile.get("user_id", "?") if isinstance(profile, dict) else "?"
    return CheckResult("token", Status.PASS, f"authenticated as {user}; token {issued}")


def check_docker(ctx: CheckContext) -> CheckResult:
    try:
        engine, compose = ctx.compose.versions()
    except DockerException as exc:
        detail = (exc.stderr or "").strip().splitlines()[-1:] or [f"exit code {exc.return_code}"]
        return CheckResult(
            "docker",
            Status.FAIL,
            f"the Docker engine or compose does not answer ({detail[0]}); "
            f"start them with scripts/setup.sh docker",
        )
    running = ctx.compose.running_services()
    if running:
        return CheckResult(
            "docker",
            Status.FAIL,
            f"project {ctx.compose.project_name!r} is already running "
            f"{', '.join(running)}, outside any session; stop them first "
            f"(docker compose -p {ctx.compose.project_name} down)",
        )
    services = [*ctx.services, "eod"]
    missing = ctx.compose.missing_images(services)
    reason = f"engine {engine}, compose {compose}"
    if missing and ctx.dry_run:
        return CheckResult(
            "docker",
            Status.WARN,
            f"{reason}; missing images {', '.join(missing)} "
            f"(a real run builds them with docker/build-images.sh)",
        )
    if not ctx.dry_run:
        # Idempotent and quick when the images carry the current source hash; rebuilds stale ones.
        build = subprocess.run(
            ["bash", "docker/build-images.sh"],
            cwd=ctx.project_dir,
            capture_output=True,
            text=True,
            check=False,
            timeout=BUILD_TIMEOUT_S,  # a TimeoutExpired fails this check (run_checks)
        )
        if build.returncode != 0:
            return CheckResult(
                "docker", Status.FAIL, f"{reason}; image build failed: {build.stderr.strip()[-500:]}"
            )
        missing = ctx.compose.missing_images(services)
        if missing:
            return CheckResult(
                "docker", Status.FAIL, f"{reason}; still missing after the build: {', '.join(missing)}"
            )
        last = build.stderr.strip().splitlines()[-1:] or [""]
        reason += f"; images: {last[0].removeprefix('[images] ')}"
    return CheckResult("docker", Status.PASS, reason)


BUILD_TIMEOUT_S = 1800  # a first build downloads the wheels and builds five images: minutes, not an hour

CHECKS: tuple[tuple[str, Check], ...] = (
    ("time", check_time),
    ("filesystem", check_filesystem),
    ("secrets", check_secrets),
    ("config", check_config),
    ("token", check_token),
    ("docker", check_docker),
)
