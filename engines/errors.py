"""Exceptions grouped by what the caller must do, and the one place they become exit codes.

PaperfleetError
├── ConfigError     bad configuration or command line: fix the input and run again  -> exit 2
└── EngineFailure   the engine could not finish the day (I/O, data, injected fault) -> exit 1
    └── FeedFailure the live feed went silent past its limit (engines/kite/feed.py)  -> exit 4

Exit codes are the contract between an engine process and the session controller:
0 = the day finished (or the engine stopped cleanly on SIGTERM/SIGINT), 1 = runtime failure,
2 = configuration or usage error, 4 = the live feed failed. See docs/contract.md.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    FEED = 4  # the live feed went silent past its limit (3 is the controller's failed pre-market check)
    BUSY = 5  # another run holds the artifacts directory (engines/artifacts/lock.py): nothing started


class PaperfleetError(Exception):
    """Base of every error Paperfleet raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILURE


class StopRequested(Exception):
    """A stop (SIGTERM/SIGINT) arrived while waiting before the day started: nothing failed."""


class ConfigError(PaperfleetError):
    """The configuration or command line is wrong; the message names the key, the value and the fix."""

    exit_code = ExitCode.USAGE


class EngineFailure(PaperfleetError):
    """The engine hit a runtime failure and stopped before the close."""

    exit_code = ExitCode.FAILURE
