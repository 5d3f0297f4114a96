"""The emulator's secret handling without a server: the credentials file, the redactor, the request log."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from engines.errors import ConfigError
from engines.kite.emulator.auth import checksum
from engines.kite.emulator.config import load_credentials
from engines.kite.emulator.reqlog import MASK, RedactingFormatter, Redactor, RequestLog

SECRET, TOKEN = "s3cret-value-0123", "request-token-4567"


def test_credentials_file_refuses_other_readers_and_never_echoes_values(tmp_path: Path) -> None:
    path = tmp_path / "kite.yaml"
    path.write_text(f"api_key: key\napi_secret: {SECRET}\nrequest_tokens: [{TOKEN}]\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable or writable by every user"):
        load_credentials(path)
    path.chmod(0o600)
    credentials = load_credentials(path)
    assert SECRET not in repr(credentials) and TOKEN not in str(credentials)
    path.write_text(f"api_key: key\napi_secret: {SECRET}\nacess_token: {TOKEN}\n")  # a typo'd key
    with pytest.raises(ConfigError) as bad:
        load_credentials(path)
    assert "acess_token" in str(bad.value) and TOKEN not in str(bad.value) and SECRET not in str(bad.value)
    path.write_text(f"api_key: key\napi_secret: {SECRET}\n")
    with pytest.raises(ConfigError, match="give access_token or request_tokens"):
        load_credentials(path)


def test_redactor_masks_secrets_and_their_checksums() -> None:
    redact = Redactor("key", SECRET, [TOKEN])
    issued = "a" * 32
    redact.add(issued)
    text = f"x {SECRET} {TOKEN} {checksum('key', TOKEN, SECRET)} {issued} y"
    assert redact(text) == f"x {MASK} {MASK} {MASK} {MASK} y"


def test_short_test_secrets_do_not_corrupt_the_log(tmp_path: Path) -> None:
    """Regression: a one-letter api_secret ('s') masked every 's' of every JSON line, which then failed to
    parse. Values shorter than 8 characters are left alone, and masking applies to values only."""
    log = RequestLog(tmp_path / "log.jsonl", Redactor("k", "s", ["r1"]))
    log.record("rest", method="GET", route="/user/margins/{segment}", status=200, note=f"has {SECRET}")
    [entry] = log.entries()
    assert entry["route"] == "/user/margins/{segment}" and entry["status"] == 200
    log.close()
    assert json.loads((tmp_path / "log.jsonl").read_text())["kind"] == "rest"


def test_formatter_masks_tracebacks_too() -> None:
    formatter = RedactingFormatter("%(message)s", Redactor("key", SECRET, []))
    try:
        raise ValueError(f"bad value {SECRET}")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text = formatter.format(record)
    assert "ValueError: bad value" in text and SECRET not in text
