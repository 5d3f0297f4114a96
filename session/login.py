"""`session login`: the day's Kite access token, from the login flow into secrets/kite.yaml (on the host).

    login URL (printed) -> the operator logs in -> request_token (argument, prompt or stdin)
      -> generate_session(request_token, api_secret) -> access_token written atomically, mode 0600

Kite signs the exchange with sha256(api_key + request_token + api_secret), so a wrong api_secret is
refused ("Invalid `checksum`"). A request token is single-use and lives a few minutes; the access token
lives until 06:00 IST the next morning. Nothing secret is printed or logged: not the request token, not
the api_secret, not the access token; the prompt does not echo.

Exit codes: 0 the token was written; 1 Kite refused the request token or could not be reached (the file
is unchanged); 2 a usage, config or secrets-file problem.
"""

from __future__ import annotations

import dataclasses
import getpass
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from engines.config import Config
from engines.errors import ExitCode
from engines.kite.secrets import SecretsError, load_kite_secrets, write_kite_secrets
from engines.market.calendar import IST, now_ist

log = logging.getLogger("session")
REFUSED = ExitCode.FAILURE


def read_request_token() -> str:
    """Ask for the request token: hidden on a terminal, one line from a pipe otherwise."""
    if sys.stdin.isatty():
        return getpass.getpass("request_token (or the whole redirect URL; not echoed): ")
    print("request_token: reading one line from standard input", file=sys.stderr)
    return sys.stdin.readline()


def request_token_from(text: str) -> str:
    """The request token from what the operator pasted: the token, or the redirect URL that holds it."""
    text = text.strip()
    if "request_token=" in text:
        values = parse_qs(urlsplit(text).query).get("request_token") or parse_qs(text).get("request_token")
        return (values or [""])[0].strip()
    return text


def login(
    config: Config,
    request_token: str | None,
    *,
    ask: Callable[[], str] = read_request_token,
    out: TextIO = sys.stdout,
) -> int:
    """Run the login flow against `market_data.kite.api_root` and write the token; returns the exit code."""
    from kiteconnect import KiteConnect  # the host side only
    from kiteconnect import exceptions as kex
    from requests import RequestException

    path = config.kite_secrets_path
    try:
        secrets = load_kite_secrets(path)
    except SecretsError as exc:
        log.error("%s", exc)
        return ExitCode.USAGE
    api_root = config.market_data.kite.api_root
    kite = KiteConnect(secrets.api_key.get_secret_value(), root=api_root, timeout=10)
    if request_token is None:
        then = "Kite then sends the browser to your app's redirect URL, with ?request_token=... in it"
        print(f"Log in to Kite here; {then}:\n\n    {kite.login_url()}\n", file=out)
        request_token = ask()
    token = request_token_from(request_token)
    if not token:
        log.error(
            "no request_token given; log in at the URL above and pass the request_token from the redirect"
        )
        return ExitCode.USAGE
    try:
        session = kite.generate_session(token, secrets.api_secret.get_secret_value())
    except kex.TokenException as exc:
        reason = _masked(_reason(exc), token, secrets.api_secret.get_secret_value())
        log.error("Kite refused the login (TokenException, HTTP %s: %s); %s", exc.code, reason, _fix(exc))
        return REFUSED
    except kex.KiteException as exc:
        log.error("Kite refused the login (%s, HTTP %s); nothing written", type(exc).__name__, exc.code)
        return REFUSED
    except RequestException as exc:
        log.error(
            "Kite unreachable at %s (%s); nothing written: check the network and market_data.kite.api_root",
            api_root,
            type(exc).__name__,
        )
        return REFUSED
    access_token = session.get("access_token") if isinstance(session, dict) else None
    if not isinstance(access_token, str) or not access_token:
        log.error("Kite's answer to the login holds no access_token; nothing written")
        return REFUSED
    issued_at = _issued_at(session.get("login_time"))
    updated = dataclasses.replace(
        secrets, access_token=SecretStr(access_token), issued_at=issued_at, issued_for=secrets.api_key
    )
    try:
        write_kite_secrets(path, updated)
    except SecretsError as exc:
        log.error("%s", exc)
        return ExitCode.FAILURE
    expires = updated.expires_at or issued_at
    print(
        f"{path}: access token written (mode 0600); issued {issued_at:%Y-%m-%d %H:%M:%S} IST, "
        f"valid until {expires:%Y-%m-%d %H:%M} IST",
        file=out,
    )
    return ExitCode.OK


def _issued_at(login_time: object) -> datetime:
    """Kite's login_time (IST, naive as the client parses it), else now."""
    if isinstance(login_time, datetime):
        return login_time.replace(tzinfo=IST) if login_time.tzinfo is None else login_time.astimezone(IST)
    return now_ist().replace(microsecond=0)


def _reason(exc: Exception) -> str:
    """Kite's own words, which are fixed texts; cut short in case a proxy sends a page instead."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else "no message"
    return text[:120]


def _masked(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _fix(exc: Exception) -> str:
    if "checksum" in str(exc).lower():
        return (
            "check api_secret in the secrets file (the checksum is signed with it), then log in again for "
            "a new request_token; nothing written"
        )
    return (
        "a request_token works once and for a few minutes: log in again and use the new one; nothing written"
    )
