"""Kite credentials (secrets/kite.yaml): read, written by `session login`, and the token's lifetime.

    api_key: ...                      from the Kite Connect app (developers.kite.trade)
    api_secret: ...                   idem; it signs the login (sha256(api_key + request_token + api_secret))
    access_token: ...                 written by `session login`
    access_token_issued_at: ...       when Kite issued it, ISO 8601 in IST
    access_token_api_key: ...         the api_key it was issued for (a later api_key change makes it useless)

An access token dies at the first 06:00 IST after it was issued (Kite's regulatory expiry,
KITE_AND_NSE.md §1.3), or earlier on a logout. Values are SecretStr: reprs, logs and tracebacks show
'**********'; every error names the file and the key, never a value. The file is replaced atomically
(temp file with mode 0600 from its creation, fsync, rename), keeping its owner, so a failed write leaves
the old file whole and the container user that read it still can.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from engines.market.calendar import IST

REQUIRED = ("api_key", "api_secret")
TOKEN_KEYS = ("access_token", "access_token_issued_at", "access_token_api_key")
KEYS = (*REQUIRED, *TOKEN_KEYS)
TOKEN_EXPIRY_IST = time(6, 0)
FILE_MODE = 0o600


class SecretsError(Exception):
    """The secrets file is missing, unreadable, malformed, too open or cannot be written; the message says
    which file, which key and the fix, never a value."""


@dataclass(frozen=True, slots=True)
class KiteSecrets:
    api_key: SecretStr
    api_secret: SecretStr
    access_token: SecretStr | None = None  # None until the first `session login`
    issued_at: datetime | None = None  # IST; None for a token written by hand
    issued_for: SecretStr | None = None  # the api_key the token was issued for; None when written by hand

    @property
    def expires_at(self) -> datetime | None:
        """When Kite expires the token: the first 06:00 IST after it was issued (None if unknown)."""
        return None if self.issued_at is None else next_token_expiry(self.issued_at)


# --- the token's lifetime -------------------------------------------------------------------------


def last_token_expiry(now: datetime) -> datetime:
    """The most recent 06:00 IST at or before `now`: every token issued before it is dead."""
    now = now.astimezone(IST)
    today = datetime.combine(now.date(), TOKEN_EXPIRY_IST, tzinfo=IST)
    return today if now >= today else today - timedelta(days=1)


def next_token_expiry(issued_at: datetime) -> datetime:
    """The first 06:00 IST after `issued_at`: when a token issued then dies."""
    return last_token_expiry(issued_at) + timedelta(days=1)


def token_problem(
    secrets: KiteSecrets, path: Path, now: datetime, needed_until: datetime | None = None
) -> str | None:
    """Why the token in `secrets` cannot serve (None when nothing known says so): missing, issued for
    another api_key, expired at a 06:00 IST since it was issued, or expiring before `needed_until` (the
    session's close). Kite itself has the last word (profile()); this catches what needs no network."""
    if secrets.access_token is None:
        return f"{path}: no access_token yet"
    if secrets.issued_for is not None and secrets.issued_for != secrets.api_key:
        return f"{path}: the access_token was issued for another api_key than this file's"
    expires = secrets.expires_at
    if secrets.issued_at is None or expires is None:
        return None
    if now >= expires:
        return (
            f"{path}: the access_token was issued {_ist(secrets.issued_at)} and Kite expired it at "
            f"{_ist(expires)} (tokens die at 06:00 IST)"
        )
    if needed_until is not None and needed_until > expires:
        return (
            f"{path}: the access_token expires at {_ist(expires)}, before the session ends at "
            f"{_ist(needed_until)}; log in after 06:00 IST"
        )
    return None


def _ist(moment: datetime) -> str:
    return f"{moment.astimezone(IST):%Y-%m-%d %H:%M} IST"


# --- reading --------------------------------------------------------------------------------------


def load_kite_secrets(path: Path) -> KiteSecrets:
    """Read and validate the file; api_key and api_secret are required, the token keys optional."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretsError(
            f"{path}: not found; copy secrets/kite.example.yaml to it, fill in {' and '.join(REQUIRED)}, "
            f"then run: session login"
        ) from None
    except OSError as exc:
        raise SecretsError(f"{path}: cannot read ({exc.strerror})") from None
    if mode & stat.S_IROTH or mode & stat.S_IWOTH:
        raise SecretsError(
            f"{path}: readable or writable by every user (mode {stat.filemode(mode)}); "
            f"run: chmod o-rwx {path}"
        )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise SecretsError(f"{path}: not valid YAML (expected {', '.join(KEYS)} as keys)") from None
    if not isinstance(data, dict):
        raise SecretsError(f"{path}: expected a mapping with keys {', '.join(KEYS)}")
    unknown = sorted(set(map(str, data)) - set(KEYS))
    if unknown:
        raise SecretsError(f"{path}: {_unknown_keys(unknown)}; allowed: {', '.join(KEYS)}")
    empty = [key for key in REQUIRED if not _text(data.get(key))]
    if empty:
        raise SecretsError(f"{path}: {', '.join(empty)} missing or empty")
    token, issued_for = _text(data.get("access_token")), _text(data.get("access_token_api_key"))
    return KiteSecrets(
        api_key=SecretStr(_text(data["api_key"])),
        api_secret=SecretStr(_text(data["api_secret"])),
        access_token=SecretStr(token) if token else None,
        issued_at=_issued_at(data.get("access_token_issued_at"), path),
        issued_for=SecretStr(issued_for) if issued_for else None,
    )


def _unknown_keys(unknown: list[str]) -> str:
    """Name the unknown keys that are typos of known ones; hide the rest (a pasted value can be a key)."""
    named = []
    for key in unknown:
        close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.75)
        if close:
            named.append(f"{key} (did you mean {close[0]}?)")
    hidden = len(unknown) - len(named)
    parts = [f"unknown key(s) {', '.join(named)}"] if named else []
    if hidden:
        parts.append(f"{hidden} unknown key(s) not shown (one may be a pasted value)")
    return "; ".join(parts)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _issued_at(value: Any, path: Path) -> datetime | None:
    if value is None or value == "":
        return None
    moment: datetime | None = None
    if isinstance(value, datetime):  # unquoted in the YAML
        moment = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(value.strip())
    if moment is None:
        raise SecretsError(
            f"{path}: access_token_issued_at is not an ISO 8601 date-time (e.g. 2026-11-27T08:45:12+05:30); "
            f"run: session login"
        )
    return moment.replace(tzinfo=IST) if moment.tzinfo is None else moment.astimezone(IST)


# --- writing --------------------------------------------------------------------------------------


def write_kite_secrets(path: Path, secrets: KiteSecrets) -> None:
    """Replace the file atomically with `secrets`, mode 0600, keeping the old file's owner and group."""
    target = path.resolve()
    payload = _yaml(secrets).encode()
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        owner = target.stat() if target.exists() else None
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # whatever the umask: never more than the owner's
            if owner is not None and (owner.st_uid, owner.st_gid) != (os.geteuid(), os.getegid()):
                os.fchown(fd, owner.st_uid, owner.st_gid)  # root writing the container user's file
            if os.write(fd, payload) != len(payload):
                raise OSError(28, os.strerror(28))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
        _fsync_directory(target.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise SecretsError(
            f"{path}: cannot write ({exc.strerror or type(exc).__name__}); the previous file is unchanged"
        ) from None


def _yaml(secrets: KiteSecrets) -> str:
    values: dict[str, str] = {
        "api_key": secrets.api_key.get_secret_value(),
        "api_secret": secrets.api_secret.get_secret_value(),
    }
    if secrets.access_token is not None:
        values["access_token"] = secrets.access_token.get_secret_value()
    if secrets.issued_at is not None:
        values["access_token_issued_at"] = secrets.issued_at.astimezone(IST).isoformat(timespec="seconds")
    if secrets.issued_for is not None:
        values["access_token_api_key"] = secrets.issued_for.get_secret_value()
    header = (
        "# Kite Connect credentials (see secrets/README.md). The access_token lines are written by\n"
        "# `session login`; the token expires at 06:00 IST after access_token_issued_at.\n"
    )
    return header + yaml.safe_dump(values, sort_keys=False, default_flow_style=False, width=1000)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems refuse to open a directory: the rename stands
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
