"""Kite's login and access tokens: the request-token exchange with its SHA-256 checksum, token checks for
REST and the ticker handshake, logout, and the `expire` fault.

One api_key. Request tokens are single-use, as Kite's are. Access tokens are 32 hex characters, valid
until logout or the expire fault (Kite's own expire at 06:00 IST the next day; an emulator run is shorter).
Comparisons are constant-time. Nothing here logs or echoes a value.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from engines.kite.emulator.config import Credentials
from engines.kite.emulator.envelope import BAD_CHECKSUM, BAD_REQUEST_TOKEN, ErrorType, KiteError, token_error
from engines.kite.emulator.reqlog import Redactor


def checksum(api_key: str, request_token: str, api_secret: str) -> str:
    """What the client sends with a request token: sha256(api_key + request_token + api_secret)."""
    return hashlib.sha256((api_key + request_token + api_secret).encode()).hexdigest()


class Sessions:
    def __init__(self, credentials: Credentials, redactor: Redactor) -> None:
        self._api_key = credentials.api_key.get_secret_value()
        self._api_secret = credentials.api_secret.get_secret_value()
        self._request_tokens = {t.get_secret_value() for t in credentials.request_tokens}
        self._access_tokens: set[str] = set()
        if credentials.access_token is not None:
            self._access_tokens.add(credentials.access_token.get_secret_value())
        self._redact = redactor

    def login(self, api_key: str, request_token: str, sent_checksum: str) -> str:
        """Exchange a request token for a new access token; the request token is spent either way once
        the api_key matches and the token is known (as Kite spends it)."""
        if not _same(api_key, self._api_key):
            raise token_error()
        known = next((t for t in self._request_tokens if _same(t, request_token)), None)
        if known is None:
            raise KiteError(403, ErrorType.TOKEN, BAD_REQUEST_TOKEN)
        self._request_tokens.discard(known)
        expected = checksum(self._api_key, known, self._api_secret)
        if not _same(expected, sent_checksum):
            raise KiteError(403, ErrorType.TOKEN, BAD_CHECKSUM)
        access_token = secrets.token_hex(16)
        self._redact.add(access_token)
        self._access_tokens.add(access_token)
        return access_token

    def valid(self, api_key: str, access_token: str) -> bool:
        key_ok = _same(api_key, self._api_key)
        token_ok = any(_same(t, access_token) for t in self._access_tokens)
        return key_ok and token_ok

    def require_header(self, authorization: str | None) -> None:
        """Check `Authorization: token api_key:access_token`; a TokenException (403) otherwise."""
        scheme, _, credentials = (authorization or "").partition(" ")
        api_key, _, access_token = credentials.partition(":")
        if scheme != "token" or not self.valid(api_key, access_token):
            raise token_error()

    def logout(self, api_key: str, access_token: str) -> None:
        if not self.valid(api_key, access_token):
            raise token_error()
        self._access_tokens = {t for t in self._access_tokens if not _same(t, access_token)}

    def expire(self) -> int:
        """The expire fault: every access token stops working; new logins still do. Returns how many."""
        count = len(self._access_tokens)
        self._access_tokens = set()
        return count


def _same(a: str, b: str) -> bool:
    """Constant-time equality of two texts (bytes, so any client input compares without an error)."""
    return hmac.compare_digest(a.encode(), b.encode())
