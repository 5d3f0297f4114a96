"""Kite's response envelope and its errors, as the official client parses them (KITE_AND_NSE.md §1.2).

Success: HTTP 200, `{"status": "success", "data": ...}`. Error: `{"status": "error", "message": ...,
"error_type": ..., "data": null}` with the HTTP status of the type. The client turns `error_type` into its
exception class by name (an unknown name becomes GeneralException) and crashes without one, so every error
here carries it. Messages are fixed texts: they never echo a request value (a token could be one).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from aiohttp import web


class ErrorType(StrEnum):
    TOKEN = "TokenException"  # 403: session expired or invalid; log in again
    PERMISSION = "PermissionException"  # 403: not allowed for this key (the emulator's order routes)
    INPUT = "InputException"  # 400: missing or bad parameters
    GENERAL = "GeneralException"  # anything else (404 route not found, 405, 500)


BAD_TOKEN = "Incorrect `api_key` or `access_token`."
BAD_CHECKSUM = "Invalid `checksum`."
BAD_REQUEST_TOKEN = "Token is invalid or has expired."
ORDERS_REFUSED = "emulator: orders are not accepted"


class KiteError(Exception):
    """An error answer: raised anywhere in a handler, turned into the envelope by the middleware."""

    def __init__(self, status: int, error_type: ErrorType, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def token_error() -> KiteError:
    return KiteError(403, ErrorType.TOKEN, BAD_TOKEN)


def input_error(message: str) -> KiteError:
    return KiteError(400, ErrorType.INPUT, message)


def success(data: Any) -> web.Response:
    return web.Response(
        text=json.dumps({"status": "success", "data": data}, separators=(",", ":")),
        content_type="application/json",
    )


def failure(error: KiteError) -> web.Response:
    body = {"status": "error", "message": error.message, "error_type": error.error_type.value, "data": None}
    return web.Response(status=error.status, text=json.dumps(body), content_type="application/json")


def csv_response(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/csv")
