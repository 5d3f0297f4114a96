"""The REST side of the Kite integration against the Kite emulator, with the official client (5.2.2) on
loopback sockets: `session login`, the token checks, KiteMarket's instrument dump and warm-up history,
and a canary that no secret ever reaches an output, an artifact or an error.

One emulator serves the module (building its market takes about two seconds); each test logs in with
its own request token. The expire fault ends every token issued before it, so tests log in afresh.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kiteconnect import KiteConnect

from engines.artifacts.layout import ArtifactPaths
from engines.config import Config, load_config
from engines.kite.emulator import KiteEmulator
from engines.kite.errors import KiteTokenError
from engines.kite.market import KiteMarket
from engines.kite.secrets import load_kite_secrets, write_kite_secrets
from engines.market.calendar import IST, ist, now_ist
from engines.market.instruments import Kind
from session import checks
from session.checks import CheckContext, Status
from session.cli import _compose_env
from session.login import login
from tests.helpers import ROOT, write_config

pytestmark = pytest.mark.slow  # a real emulator on loopback sockets: its market takes seconds to build

CANARY = "canary-5ca1ab1e"
API_KEY, API_SECRET = "paperfleet-key", f"{CANARY}-api-secret"
DAY = date(2026, 11, 27)  # a Friday; the session before it is Thursday 26 Nov
MORNING = datetime(2026, 11, 27, 8, 45, tzinfo=IST)
_request_tokens = iter(f"{CANARY}-request-{i}" for i in range(100))


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KiteEmulator]:
    with KiteEmulator(
        api_key=API_KEY,
        api_secret=API_SECRET,
        request_tokens=[f"{CANARY}-request-{i}" for i in range(100)],
        date=DAY,
        seed=11,
        log_path=tmp_path_factory.mktemp("emulator") / "requests.jsonl",  # the emulator's, not ours
    ) as emulator:
        yield emulator


def setup(tmp_path: Path, api_root: str, ws_root: str = "ws://127.0.0.1:1") -> Config:
    """A Kite-feed config pointed at `api_root`, with a secrets file holding the key and secret."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    path = secrets / "kite.yaml"
    path.write_text(f"api_key: {API_KEY}\napi_secret: {API_SECRET}\n")
    path.chmod(0o600)
    patch = {
        "artifacts_dir": str(tmp_path / "artifacts"),
        "secrets_dir": str(secrets),
        "market_data": {"feed": "kite", "kite": {"api_root": api_root, "ws_root": ws_root}},
    }
    return load_config(write_config(tmp_path / "cfg", patch))


def logged_in(tmp_path: Path, emu: KiteEmulator, issued_at: datetime | None = MORNING) -> Config:
    """Log in through `session login` and, for tests of the day's checks, date the token `issued_at`."""
    config = setup(tmp_path, emu.rest_root, emu.ws_root)
    assert login(config, next(_request_tokens), out=io.StringIO()) == 0
    if issued_at is not None:
        secrets = load_kite_secrets(config.kite_secrets_path)
        write_kite_secrets(config.kite_secrets_path, dataclasses.replace(secrets, issued_at=issued_at))
    return config


def config_file(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "config.yaml"


def context(config: Config, tmp_path: Path) -> CheckContext:
    """What the token and secrets checks read (they need neither Docker nor the container user)."""
    return CheckContext(tmp_path, config_file(tmp_path), config, None, ("fno",), None, 0, 0, True)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def morning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks run at 09:00 IST on DAY."""
    monkeypatch.setattr(checks, "now_ist", lambda: datetime(2026, 11, 27, 9, 0, tzinfo=IST))


# --- session login ------------------------------------------------------------------------------------


def test_login_writes_the_token_atomically_with_mode_0600(tmp_path: Path, emu: KiteEmulator) -> None:
    config = setup(tmp_path, emu.rest_root)
    out = io.StringIO()
    before = now_ist() - timedelta(seconds=5)
    assert login(config, next(_request_tokens), out=out) == 0
    path = config.kite_secrets_path
    assert path.stat().st_mode & 0o777 == 0o600
    data = yaml.safe_load(path.read_text())
    assert set(data) == {
        "api_key",
        "api_secret",
        "access_token",
        "access_token_issued_at",
        "access_token_api_key",
    }
    assert (data["api_key"], data["api_secret"], data["access_token_api_key"]) == (
        API_KEY,
        API_SECRET,
        API_KEY,
    )
    assert len(data["access_token"]) == 32
    issued = datetime.fromisoformat(data["access_token_issued_at"])
    assert issued.utcoffset() == timedelta(hours=5, minutes=30) and before <= issued <= now_ist()
    assert KiteConnect(API_KEY, data["access_token"], root=emu.rest_root).profile()["user_id"] == "PF0001"
    assert out.getvalue().startswith(f"{path}: access token written (mode 0600); issued ")
    assert [p.name for p in path.parent.iterdir()] == ["kite.yaml"]  # no temp file left behind


def test_a_wrong_api_secret_fails_the_checksum_and_writes_nothing(
    tmp_path: Path, emu: KiteEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    config = setup(tmp_path, emu.rest_root)
    path = config.kite_secrets_path
    path.write_text(f"api_key: {API_KEY}\napi_secret: not-the-{CANARY}-secret\n")
    before = path.read_bytes()
    assert login(config, next(_request_tokens), out=io.StringIO()) == 1
    assert (
        "Kite refused the login (TokenException, HTTP 403: Invalid `checksum`.); check api_secret"
        in caplog.text
    )
    assert path.read_bytes() == before


def test_a_spent_request_token_is_refused_and_the_old_token_stays(
    tmp_path: Path, emu: KiteEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    config = setup(tmp_path, emu.rest_root)
    token = next(_request_tokens)
    assert login(config, token, out=io.StringIO()) == 0
    written = config.kite_secrets_path.read_bytes()
    assert login(config, f"https://example.invalid/cb?status=success&request_token={token}") == 1
    assert "a request_token works once and for a few minutes" in caplog.text
    assert config.kite_secrets_path.read_bytes() == written


def test_login_when_kite_is_unreachable_writes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = setup(tmp_path, f"http://127.0.0.1:{closed_port()}")
    before = config.kite_secrets_path.read_bytes()
    assert login(config, next(_request_tokens), out=io.StringIO()) == 1
    assert "Kite unreachable at http://127.0.0.1:" in caplog.text and "nothing written" in caplog.text
    assert config.kite_secrets_path.read_bytes() == before


# --- the token checks ---------------------------------------------------------------------------------


def test_a_fresh_token_passes_the_check(tmp_path: Path, emu: KiteEmulator, morning: None) -> None:
    config = logged_in(tmp_path, emu)
    result = checks.check_token(context(config, tmp_path))
    assert (result.status, result.reason) == (
        Status.PASS,
        "authenticated as PF0001; token issued 2026-11-27 08:45 IST, expires 2026-11-28 06:00 IST",
    )


def test_a_stale_token_fails_without_asking_kite(tmp_path: Path, emu: KiteEmulator, morning: None) -> None:
    config = logged_in(tmp_path, emu, issued_at=datetime(2026, 11, 26, 9, 0, tzinfo=IST))
    calls = len(emu.log())
    result = checks.check_token(context(config, tmp_path))
    assert result.status is Status.FAIL
    assert result.reason == (
        f"{config.kite_secrets_path}: the access_token was issued 2026-11-26 09:00 IST and Kite expired "
        f"it at 2026-11-27 06:00 IST (tokens die at 06:00 IST); "
        f"run: session login --config {config_file(tmp_path)}"
    )
    assert len(emu.log()) == calls


def test_a_token_of_another_api_key_fails(tmp_path: Path, emu: KiteEmulator, morning: None) -> None:
    config = logged_in(tmp_path, emu)
    path = config.kite_secrets_path
    path.write_text(
        path.read_text().replace(f"access_token_api_key: {API_KEY}", "access_token_api_key: old-key")
    )
    result = checks.check_token(context(config, tmp_path))
    assert result.status is Status.FAIL
    assert (
        "the access_token was issued for another api_key than this file's; run: session login"
        in result.reason
    )


def test_a_token_kite_refuses_fails_with_the_fix(tmp_path: Path, emu: KiteEmulator, morning: None) -> None:
    config = logged_in(tmp_path, emu)
    emu.fault("expire")  # Kite ended the session (a logout elsewhere, or Kite's own 06:00)
    result = checks.check_token(context(config, tmp_path))
    assert result.status is Status.FAIL
    assert result.reason.startswith(
        "Kite refused the access token (TokenException, HTTP 403); run: session login"
    )


def test_an_unreachable_kite_only_warns(tmp_path: Path, emu: KiteEmulator, morning: None) -> None:
    config = logged_in(tmp_path, emu)
    root = f"http://127.0.0.1:{closed_port()}"
    elsewhere = config.model_copy(
        update={
            "market_data": config.market_data.model_copy(
                update={"kite": config.market_data.kite.model_copy(update={"api_root": root})}
            )
        }
    )
    result = checks.check_token(context(elsewhere, tmp_path))
    assert (result.status, result.reason) == (
        Status.WARN,
        f"not verified: Kite unreachable at {root} (ConnectionError); token issued 2026-11-27 08:45 IST, "
        f"expires 2026-11-28 06:00 IST",
    )


# --- KiteMarket: the dump and the history -------------------------------------------------------------


def dump_calls(emu: KiteEmulator) -> list[dict[str, Any]]:
    return [e for e in emu.log() if e.get("route") == "/instruments"]


def test_kite_market_downloads_the_dump_once_and_reuses_it(tmp_path: Path, emu: KiteEmulator) -> None:
    config = logged_in(tmp_path, emu)
    paths = ArtifactPaths(config.artifacts_dir)
    before = len(dump_calls(emu))
    market = KiteMarket(config, paths, day=DAY, now=MORNING)
    calls = dump_calls(emu)[before:]
    assert len(calls) == 1 and calls[0]["status"] == 200 and calls[0]["kite_v3"] is True  # Kite's headers
    token = load_kite_secrets(config.kite_secrets_path).access_token
    assert token is not None
    raw = KiteConnect(API_KEY, token.get_secret_value(), root=emu.rest_root)._get("market.instruments.all")
    assert paths.instruments(DAY).read_bytes() == raw  # the raw CSV as Kite served it
    assert len(market.master) == len(raw.decode().splitlines()) - 1
    assert market.master.current_future("NIFTY").lot_size == 65  # lots, ticks, expiries from the dump
    assert market.master.chain("NIFTY").expiry == date(2026, 12, 1)
    again = KiteMarket(config, paths, day=DAY, now=MORNING)
    assert list(again.master) == list(market.master) and len(dump_calls(emu)) == before + 2  # +1: raw above
    assert paths.kite_ratelimit("other").exists()


def test_warmup_bars_come_from_the_sessions_before_in_ist_and_are_cached(
    tmp_path: Path, emu: KiteEmulator
) -> None:
    config = logged_in(tmp_path, emu)
    paths = ArtifactPaths(config.artifacts_dir)
    market = KiteMarket(config, paths, day=DAY, now=MORNING)
    future = market.master.current_future("NIFTY")
    bars = market.warmup(future, 400)
    assert len(bars) == 400 and all(b.instrument == future for b in bars)
    assert ist(bars[-1].start_ms) == datetime(2026, 11, 26, 15, 29, tzinfo=IST)
    assert ist(bars[-375].start_ms) == datetime(2026, 11, 26, 9, 15, tzinfo=IST)
    assert ist(bars[0].start_ms) == datetime(2026, 11, 25, 15, 5, tzinfo=IST)  # the 25 before those 375
    token = load_kite_secrets(config.kite_secrets_path).access_token
    assert token is not None
    oracle = KiteConnect(API_KEY, token.get_secret_value(), root=emu.rest_root).historical_data(
        future.token, datetime(2026, 11, 26, 9, 15), datetime(2026, 11, 26, 15, 29), "minute"
    )
    assert [(b.open, b.high, b.low, b.close, b.volume) for b in bars[-375:]] == [
        (c["open"], c["high"], c["low"], c["close"], c["volume"]) for c in oracle
    ]
    assert [b.start_ms for b in bars[-375:]] == [int(c["date"].timestamp() * 1000) for c in oracle]
    assert isinstance(bars[-1].volume, int) and isinstance(bars[-1].close, float)
    history = [e for e in emu.log() if str(e.get("route", "")).startswith("/instruments/historical")]
    assert market.warmup(future, 400) == bars  # from market/<date>/history/<token>.json
    assert [e for e in emu.log() if str(e.get("route", "")).startswith("/instruments/historical")] == history
    assert paths.history(DAY, future.token).exists() and paths.kite_ratelimit("historical").exists()
    index = market.master.index("NIFTY")
    assert index.kind is Kind.INDEX and {b.volume for b in market.warmup(index, 30)} == {0}


def test_a_stale_or_refused_token_stops_kite_market_with_the_fix(tmp_path: Path, emu: KiteEmulator) -> None:
    config = logged_in(tmp_path, emu, issued_at=datetime(2026, 11, 26, 9, 0, tzinfo=IST))
    with pytest.raises(
        KiteTokenError, match=r"Kite expired it at 2026-11-27 06:00 IST .*; run: session login"
    ):
        KiteMarket(config, ArtifactPaths(config.artifacts_dir), day=DAY, now=MORNING)
    config = logged_in(tmp_path / "refused", emu)
    emu.fault("expire")
    with pytest.raises(KiteTokenError) as refused:
        KiteMarket(config, ArtifactPaths(config.artifacts_dir), day=DAY, now=MORNING)
    assert str(refused.value) == (
        "Kite refused the access token on GET /instruments (TokenException, HTTP 403); run: session login"
    )


# --- secrets hygiene ----------------------------------------------------------------------------------


def test_canary_secrets_never_reach_an_output_an_artifact_or_an_error(
    tmp_path: Path, emu: KiteEmulator, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`session login` as the operator runs it (request token on stdin, then as an argument), the checks,
    a day's dump and history, and the failures: no api_secret, request token or access token anywhere."""
    caplog.set_level(logging.DEBUG)  # the client's and urllib3's debug lines too
    config = setup(tmp_path, emu.rest_root, emu.ws_root)
    config_path = config_file(tmp_path)
    spent = [next(_request_tokens), next(_request_tokens)]
    command = [sys.executable, "-m", "session", "login", "--config", str(config_path)]
    outputs = [
        subprocess.run(command, input=f"{spent[0]}\n", capture_output=True, text=True, cwd=ROOT, check=True),
        subprocess.run([*command, spent[1]], capture_output=True, text=True, cwd=ROOT, check=True),
    ]
    assert "https://kite.zerodha.com/connect/login?api_key=paperfleet-key&v=3" in outputs[0].stdout
    secrets = load_kite_secrets(config.kite_secrets_path)
    assert secrets.access_token is not None
    access_token = secrets.access_token.get_secret_value()
    write_kite_secrets(config.kite_secrets_path, dataclasses.replace(secrets, issued_at=MORNING))
    monkeypatch.setattr(checks, "now_ist", lambda: datetime(2026, 11, 27, 9, 0, tzinfo=IST))

    texts = {"login from stdin": outputs[0].stdout + outputs[0].stderr}
    texts["login with an argument"] = outputs[1].stdout + outputs[1].stderr
    results = [checks.check_secrets(context(config, tmp_path)), checks.check_token(context(config, tmp_path))]
    assert [r.status for r in results] == [Status.PASS, Status.PASS]
    texts["checks"] = "\n".join(r.reason for r in results)
    market = KiteMarket(config, ArtifactPaths(config.artifacts_dir), day=DAY, now=MORNING)
    market.warmup(market.master.current_future("NIFTY"), 30)
    texts["reprs"] = "\n".join((repr(market.rest), repr(market.master), repr(secrets), str(secrets)))
    args = argparse.Namespace(config=config_path, speed=None)
    texts["container environment"] = str(_compose_env(args, config, 10001, 10001))
    # The failures: a wrong secret, a spent request token, and a refused access token.
    wrong = setup(tmp_path / "wrong", emu.rest_root)
    wrong.kite_secrets_path.write_text(f"api_key: {API_KEY}\napi_secret: {API_SECRET}-but-wrong\n")
    login(wrong, next(_request_tokens), out=io.StringIO())
    login(config, spent[0], out=io.StringIO())
    emu.fault("expire")
    texts["a refused token's check"] = checks.check_token(context(config, tmp_path)).reason
    with pytest.raises(KiteTokenError) as refused:
        market.warmup(market.master.current_future("BANKNIFTY"), 30)
    texts["a refused token's error"] = str(refused.value)
    texts["logs"] = caplog.text  # the failed logins' messages among them

    artifacts = [p for p in config.artifacts_dir.rglob("*") if p.is_file()]
    assert {p.name for p in artifacts} >= {"instruments.csv", "instruments.kite.json", "historical", "other"}
    blobs = {str(p): p.read_bytes().decode(errors="replace") for p in artifacts} | texts
    for value in (API_SECRET, access_token, *spent, CANARY):
        leaks = [where for where, text in blobs.items() if value in text]
        assert leaks == [], f"a secret reached {leaks}"
