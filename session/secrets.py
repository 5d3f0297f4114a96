"""Kite credentials: read and validated only when the feed needs Kite; never shown.

Values are SecretStr, so they print as '**********' in reprs, logs and tracebacks; error messages name
the file and the key, never the value.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import SecretStr

KEYS = ("api_key", "api_secret", "access_token")


class SecretsError(Exception):
    """The secrets file is missing, unreadable, malformed or too open; the message says which."""


@dataclass(frozen=True, slots=True)
class KiteSecrets:
    api_key: SecretStr
    api_secret: SecretStr
    access_token: SecretStr


def load_kite_secrets(path: Path) -> KiteSecrets:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretsError(
            f"{path}: not found; copy secrets/kite.example.yaml to it and fill in {', '.join(KEYS)}"
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
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SecretsError(
            f"{path}: unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(KEYS)}"
        )
    empty = [key for key in KEYS if not isinstance(data.get(key), str) or not data[key].strip()]
    if empty:
        raise SecretsError(f"{path}: {', '.join(empty)} missing or empty")
    return KiteSecrets(*(SecretStr(data[key].strip()) for key in KEYS))
