"""Pre-market checks without Docker: secrets (with a canary that must never show), the Kite token check
against a loopback stand-in for the API, time, filesystem ownership, status line and --fresh."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engines.artifacts.layout import ArtifactPaths
from engines.config import load_config
from engines.kite.secrets import SecretsError, load_kite_secrets
from engines.market.calendar import IST
from session import checks
from session.checks import CheckContext, Status, run_checks
from session.cli import archive_artifacts
from session.status import status_line
from tests.helpers import write_config

CANARY = "canary-7f3a9c-do-not-print"


class StubCompose:
    """Stands in for session.compose.Compose where a check needs Docker."""

    project_name = "stub"

    def versions(self) -> tuple[str, str]:
        return "28.2", "v2.40.3"

    def running_services(self) -> list[str]:
        return []

    def missing_images(self, services: Any) -> list[str]:
        return ["paperfleet-eod:latest"]


def write_secrets(directory: Path, mode: int = 0o600, **values: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "kite.yaml"
    fields = {"api_key": CANARY, "api_secret": CANARY, "access_token": CANARY} | values
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items()))
    path.chmod(mode)
    return path


def context(tmp_path: Path, patch: dict[str, Any] | None = None, dry_run: bool = True) -> CheckContext:
    base = {"artifacts_dir": str(tmp_path / "artifacts"), "secrets_dir": str(tmp_path / "secrets")}
    path = write_config(tmp_path / "cfg", base | (patch or {}))
    return CheckContext(
        tmp_path,
        path,
        load_config(path),
        None,
        ("fno",),
        StubCompose(),
        10001,
        10001,  # type: ignore[arg-type]
        dry_run,
    )


def kite_patch(root: str) -> dict[str, Any]:
    return {"market_data": {"feed": "kite", "kite": {"api_root": root}}}


def test_secrets_values_never_reach_a_repr_or_a_message(tmp_path: Path) -> None:
    secrets = load_kite_secrets(write_secrets(tmp_path))
    assert CANARY not in repr(secrets) and CANARY not in str(secrets)
    assert secrets.access_token is not None and secrets.access_token.get_secret_value() == CANARY
    with pytest.raises(SecretsError) as caught:
        load_kite_secrets(write_secrets(tmp_path / "open", mode=0o644))
    assert "readable or writable by every user" in str(caught.value) and CANARY not in str(caught.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"api_key": ""}, "api_key missing or empty"),
        ({"api_secret": "  "}, "api_secret missing or empty"),
        ({"api_sercet": "x"}, "unknown key(s) api_sercet (did you mean api_secret?)"),
    ],
)
def test_secrets_problems_name_the_key(tmp_path: Path, values: dict[str, str], message: str) -> None:
    with pytest.raises(SecretsError, match=re.escape(message)):
        load_kite_secrets(write_secrets(tmp_path, **values))


def test_missing_secrets_fail_only_when_the_feed_is_kite(tmp_path: Path) -> None:
    results = {r.name: r for r in run_checks(context(tmp_path))}
    assert results["secrets"].status is Status.PASS and "not needed" in results["secrets"].reason
    results = {r.name: r for r in run_checks(context(tmp_path, kite_patch("http://127.0.0.1:9")))}
    assert results["secrets"].status is Status.FAIL
    assert results["secrets"].reason.endswith(
        "kite.yaml: not found; copy secrets/kite.example.yaml to it, fill in api_key and api_secret, "
        "then run: session login"
    )
    assert results["config"].status is Status.PASS  # the config itself is fine: the secrets are missing
    assert results["token"].status is Status.FAIL


class _KiteStandIn(BaseHTTPRequestHandler):
    """Answers /user/profile like Kite: 200 for the good token, 403 TokenException otherwise."""

    def do_GET(self) -> None:
        good = self.headers.get("Authorization") == f"token {CANARY}:good-token"
        body = (
            {"status": "success", "data": {"user_id": "AB1234"}}
            if good
            else {
                "status": "error",
                "error_type": "TokenException",
                "message": "Incorrect `api_key` or `access_token`.",
            }
        )
        payload = json.dumps(body).encode()
        self.send_response(200 if good else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def kite_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KiteStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_token_check_authenticates_against_the_api(tmp_path: Path, kite_api: str) -> None:
    write_secrets(tmp_path / "secrets", access_token="good-token")
    token = checks.check_token(context(tmp_path, kite_patch(kite_api)))
    assert (token.status, token.reason) == (
        Status.PASS,
        "authenticated as AB1234; token issued at an unknown time (not written by session login)",
    )


def test_a_refused_token_fails_and_an_unreachable_api_only_warns(tmp_path: Path, kite_api: str) -> None:
    write_secrets(tmp_path / "secrets", access_token="stale-token")
    refused = checks.check_token(context(tmp_path, kite_patch(kite_api)))
    assert (
        refused.status is Status.FAIL
        and "refused the access token (TokenException, HTTP 403); run: session login" in refused.reason
    )
    unreachable = checks.check_token(context(tmp_path, kite_patch("http://127.0.0.1:9")))
    assert unreachable.status is Status.WARN
    assert unreachable.reason.startswith(
        "not verified: Kite unreachable at http://127.0.0.1:9 (ConnectionError)"
    )
    assert CANARY not in refused.reason + unreachable.reason


def test_time_check_fails_the_live_feed_on_a_holiday_and_warns_the_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        checks, "now_ist", lambda: datetime(2026, 11, 24, 10, 0, tzinfo=IST)
    )  # Guru Nanak Jayanti
    live = checks.check_time(context(tmp_path, kite_patch("http://127.0.0.1:9")))
    assert (
        live.status is Status.FAIL
        and "not an NSE trading day (an NSE holiday (Prakash Gurpurb" in live.reason
    )
    assert live.reason.endswith("the live feed has no market today, nothing started")
    emulated = kite_patch("http://127.0.0.1:9")
    emulated["market_data"]["kite"]["emulator"] = True
    waived = checks.check_time(context(tmp_path, emulated))
    assert waived.status is Status.PASS and "the Kite emulator streams on any day" in waived.reason
    sim = checks.check_time(context(tmp_path, {"market_data": {"sim": {"date": "2026-11-23"}}}))
    assert sim.status is Status.WARN and "simulating 2026-11-23" in sim.reason
    monkeypatch.setattr(checks, "now_ist", lambda: datetime(2026, 11, 23, 10, 0, tzinfo=IST))
    assert checks.check_time(context(tmp_path, kite_patch("http://127.0.0.1:9"))).status is Status.PASS
    monkeypatch.setattr(checks, "now_ist", lambda: datetime(2026, 11, 23, 8, 40, tzinfo=IST))
    early = checks.check_time(context(tmp_path, kite_patch("http://127.0.0.1:9")))
    assert early.status is Status.PASS and early.reason.endswith("the engines wait for the open at 09:15 IST")
    monkeypatch.setattr(checks, "now_ist", lambda: datetime(2026, 11, 23, 15, 31, tzinfo=IST))
    late = checks.check_time(context(tmp_path, kite_patch("http://127.0.0.1:9")))
    assert late.status is Status.FAIL and "today's session is over" in late.reason


@pytest.mark.skipif(os.geteuid() != 0, reason="ownership repair is what root does")
def test_filesystem_check_gives_artifacts_to_the_container_user(tmp_path: Path) -> None:
    (tmp_path / "artifacts" / "journal").mkdir(parents=True)
    dry = checks.check_filesystem(context(tmp_path))
    assert dry.status is Status.WARN and "a real run fixes that" in dry.reason
    assert (tmp_path / "artifacts").stat().st_uid == 0
    fixed = checks.check_filesystem(context(tmp_path, dry_run=False))
    assert fixed.status is Status.WARN and "gave 2 path(s) to the container user 10001:10001" in fixed.reason
    assert {(p.stat().st_uid, p.stat().st_gid) for p in (tmp_path / "artifacts").rglob("*")} == {
        (10001, 10001)
    }
    assert checks.check_filesystem(context(tmp_path, dry_run=False)).status is Status.PASS


def test_docker_check_in_a_dry_run_reports_missing_images_without_building(tmp_path: Path) -> None:
    result = checks.check_docker(context(tmp_path))
    assert result.status is Status.WARN and "missing images paperfleet-eod:latest" in result.reason


def test_a_check_that_raises_is_a_failed_check_and_the_rest_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: CheckContext) -> checks.CheckResult:
        raise RuntimeError("boom")

    monkeypatch.setattr(checks, "CHECKS", (("time", broken), *checks.CHECKS[1:]))
    results = run_checks(context(tmp_path))
    assert [r.name for r in results] == ["time", "filesystem", "secrets", "config", "token", "docker"]
    assert (results[0].status, results[0].reason) == (Status.FAIL, "check raised RuntimeError: boom")


def test_status_line_reads_the_heartbeats(tmp_path: Path) -> None:
    paths = ArtifactPaths(tmp_path)
    paths.heartbeat("fno").parent.mkdir(parents=True)
    paths.heartbeat("fno").write_text(
        json.dumps(
            {
                "status": "running",
                "sim_time_ist": "2026-11-27T11:02:03+05:30",
                "orders": 4,
                "net_pnl": "-12.50",
            }
        )
    )
    assert status_line(paths, ["fno", "options"], {}) == (
        "sim 11:02:03 | fno running 4 orders P&L -12.50 | options starting"
    )
    assert "fno exited 137" in status_line(paths, ["fno"], {"fno": 137})


def test_fresh_archives_everything_and_loses_nothing(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("keep")
    (tmp_path / "orders.csv").write_text("rows")
    (tmp_path / "journal" / "2026-11-27").mkdir(parents=True)
    (tmp_path / "locks").mkdir()  # the lock the run holds stays where the next run looks for it
    owner = (os.getuid(), os.getgid())
    archived = archive_artifacts(tmp_path, owner)
    assert archived is not None and archived.parent == tmp_path / "archive"
    assert (archived / "orders.csv").read_text() == "rows" and (archived / "journal" / "2026-11-27").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "archive", "locks"]
    assert archive_artifacts(tmp_path, owner) is None


def test_a_config_directory_the_container_user_cannot_read_fails_the_filesystem_check(tmp_path: Path) -> None:
    ctx = context(tmp_path, dry_run=False)
    (tmp_path / "cfg").chmod(0o700)  # like a mkdtemp directory: the container's uid 10001 cannot enter it
    result = checks.check_filesystem(ctx)
    assert result.status is Status.FAIL
    assert (
        f"not readable by the container user 10001:10001 (mounted at /app/configs): {tmp_path / 'cfg'}"
        in result.reason
    )
    (tmp_path / "cfg").chmod(0o755)
    assert checks.check_filesystem(ctx).status is not Status.FAIL
