"""What goes wrong at the Kite edge, grouped by what the caller must do (all are EngineFailure: exit 1).

    KiteError                 Kite answered with an error, or its answer could not be read
    ├── KiteTokenError        the access token is missing, expired or refused: run `session login`
    └── KiteUnreachable       connection refused, DNS, timeout: the network, or Kite, is down

Messages name the route or file, the error type and the HTTP status, never a credential.
"""

from __future__ import annotations

from engines.errors import EngineFailure


class KiteError(EngineFailure):
    """Kite answered with an error, or the answer could not be read."""


class KiteTokenError(KiteError):
    """The access token is missing, expired or refused; `session login` makes a new one."""


class KiteUnreachable(KiteError):
    """Kite could not be reached (connection refused, DNS, timeout)."""
