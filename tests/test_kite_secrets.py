"""secrets/kite.yaml: the atomic 0600 write of `session login`, the token's 06:00 IST lifetime, and
messages that never hold a value."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from engines.kite.secrets import (
    KiteSecrets,
    SecretsError,
    last_token_expiry,
    load_kite_secrets,
    next_token_expiry,
    token_problem,
    write_kite_secrets,
)
from engines.market.calendar import IST

CANARY_SECRET = "canary-secret-51c0ffee-never-shown"
CANARY_TOKEN = "canary-token-8badf00d-never-shown"
API_KEY = "canary-apikey-0ddba11"


def ist(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=IST)


def secrets(**changes: object) -> KiteSecrets:
    base = KiteSecrets(
        api_key=SecretStr(API_KEY),
        api_secret=SecretStr(CANARY_SECRET),
        access_token=SecretStr(CANARY_TOKEN),
        issued_at=ist(2026, 11, 27, 8, 40),
        issued_for=SecretStr(API_KEY),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "kite.yaml"
    path.write_text(f"api_key: {API_KEY}\napi_secret: {CANARY_SECRET}\n")
    path.chmod(0o640)
    return path


def test_the_token_is_written_with_its_issue_time_and_api_key_mode_0600(tmp_path: Path) -> None:
    path = old_file(tmp_path)
    old_umask = os.umask(0)  # the mode must not depend on the operator's umask
    try:
        write_kite_secrets(path, secrets())
    finally:
        os.umask(old_umask)
    assert path.stat().st_mode & 0o777 == 0o600
    data = yaml.safe_load(path.read_text())
    assert data == {
        "api_key": API_KEY,
        "api_secret": CANARY_SECRET,
        "access_token": CANARY_TOKEN,
        "access_token_issued_at": "2026-11-27T08:40:00+05:30",
        "access_token_api_key": API_KEY,
    }
    again = load_kite_secrets(path)
    assert again == secrets() and again.expires_at == ist(2026, 11, 28, 6, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["kite.yaml"]  # no temp file left


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can write a file owned by another user")
def test_root_writing_keeps_the_owner_so_the_container_user_can_still_read_it(tmp_path: Path) -> None:
    path = old_file(tmp_path)
    os.chown(path, 10001, 10001)
    write_kite_secrets(path, secrets())
    assert (path.stat().st_uid, path.stat().st_gid) == (10001, 10001)


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_write_that_fails_midway_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = old_file(tmp_path)
    before = path.read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)  # the module's os is this one
    with pytest.raises(SecretsError) as caught:
        write_kite_secrets(path, secrets())
    monkeypatch.undo()
    message = str(caught.value)
    assert message == f"{path}: cannot write (No space left on device); the previous file is unchanged"
    assert path.read_bytes() == before and path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["kite.yaml"]


def test_a_file_without_a_token_loads_and_a_hand_written_one_has_no_issue_time(tmp_path: Path) -> None:
    path = old_file(tmp_path)
    assert load_kite_secrets(path).access_token is None
    path.write_text(path.read_text() + f"access_token: {CANARY_TOKEN}\n")
    loaded = load_kite_secrets(path)
    assert loaded.access_token == SecretStr(CANARY_TOKEN) and loaded.issued_at is None
    assert loaded.issued_for is None and loaded.expires_at is None
    path.write_text(path.read_text() + "access_token_issued_at: 2026-11-27T08:40:00+05:30\n")  # unquoted
    assert load_kite_secrets(path).issued_at == ist(2026, 11, 27, 8, 40)


def test_problems_name_the_file_and_key_never_the_value(tmp_path: Path) -> None:
    path = old_file(tmp_path)
    path.write_text(
        path.read_text() + f"access_token: {CANARY_TOKEN}\naccess_token_issued_at: {CANARY_TOKEN}\n"
    )
    with pytest.raises(SecretsError) as bad_time:
        load_kite_secrets(path)
    assert str(bad_time.value) == (
        f"{path}: access_token_issued_at is not an ISO 8601 date-time (e.g. 2026-11-27T08:45:12+05:30); "
        f"run: session login"
    )
    path.write_text(f"api_key: {API_KEY}\napi_secret: {CANARY_SECRET}\n{CANARY_TOKEN}: x\nacess_token: y\n")
    with pytest.raises(SecretsError) as unknown:
        load_kite_secrets(path)
    assert str(unknown.value).startswith(
        f"{path}: unknown key(s) acess_token (did you mean access_token?); "
        f"1 unknown key(s) not shown (one may be a pasted value); allowed: api_key, "
    )
    for caught in (bad_time, unknown):
        assert CANARY_SECRET not in str(caught.value) and CANARY_TOKEN[:20] not in str(caught.value)
    assert CANARY_TOKEN not in repr(secrets()) and CANARY_SECRET not in repr(secrets())


@pytest.mark.parametrize(
    ("now", "last"),
    [
        (ist(2026, 11, 27, 5, 59, 59), ist(2026, 11, 26, 6, 0)),
        (ist(2026, 11, 27, 6, 0), ist(2026, 11, 27, 6, 0)),
        (ist(2026, 11, 27, 23, 0), ist(2026, 11, 27, 6, 0)),
        (datetime(2026, 11, 27, 0, 29, tzinfo=UTC), ist(2026, 11, 26, 6, 0)),  # 05:59 IST
    ],
)
def test_the_last_expiry_is_the_most_recent_0600_ist(now: datetime, last: datetime) -> None:
    assert last_token_expiry(now) == last
    assert last_token_expiry(now.astimezone(UTC)) == last  # whatever the timezone it comes in


def test_a_token_issued_before_0600_dies_at_0600() -> None:
    assert next_token_expiry(ist(2026, 11, 27, 5, 59)) == ist(2026, 11, 27, 6, 0)
    assert next_token_expiry(ist(2026, 11, 27, 6, 0)) == ist(2026, 11, 28, 6, 0)


def test_token_problems_missing_mismatched_stale_and_too_short(tmp_path: Path) -> None:
    path = tmp_path / "kite.yaml"
    morning, close = ist(2026, 11, 27, 9, 0), ist(2026, 11, 27, 15, 30)
    assert token_problem(secrets(), path, morning, close) is None
    assert token_problem(secrets(issued_at=None, issued_for=None), path, morning, close) is None  # by hand
    assert token_problem(secrets(access_token=None), path, morning) == f"{path}: no access_token yet"
    assert token_problem(secrets(issued_for=SecretStr("another-key")), path, morning) == (
        f"{path}: the access_token was issued for another api_key than this file's"
    )
    yesterday = secrets(issued_at=ist(2026, 11, 26, 9, 5))
    assert token_problem(yesterday, path, morning, close) == (
        f"{path}: the access_token was issued 2026-11-26 09:05 IST and Kite expired it at "
        f"2026-11-27 06:00 IST (tokens die at 06:00 IST)"
    )
    assert token_problem(yesterday, path, ist(2026, 11, 27, 5, 59), None) is None  # still alive before 06:00
    early = secrets(issued_at=ist(2026, 11, 27, 5, 30))
    assert token_problem(early, path, ist(2026, 11, 27, 5, 45), close) == (
        f"{path}: the access_token expires at 2026-11-27 06:00 IST, before the session ends at "
        f"2026-11-27 15:30 IST; log in after 06:00 IST"
    )
