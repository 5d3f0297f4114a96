"""Faults on command, for tests of the live feed's recovery: what each one does to the emulator.

    drop       abort every ticker socket (no close frame): the client sees a network failure, reconnects
               and resubscribes by itself
    silent     keep the sockets open and send nothing at all (no ticks, heartbeats or pongs) until resume:
               only a watchdog on tick arrival notices
    resume     end `silent`
    expire     every access token stops working: REST answers 403 TokenException, new ticker handshakes
               get 403; open sockets stay up; a new login still works
    malformed  one binary frame that announces two packets and holds one and a stray byte, to each socket

Reached through POST /_emulator/fault/{name} or KiteEmulator.fault(name).
"""

from __future__ import annotations

from enum import StrEnum

from engines.kite.emulator.auth import Sessions
from engines.kite.emulator.ticker import Ticker


class Fault(StrEnum):
    DROP = "drop"
    SILENT = "silent"
    RESUME = "resume"
    EXPIRE = "expire"
    MALFORMED = "malformed"


def apply(fault: Fault, ticker: Ticker, sessions: Sessions) -> dict[str, int | bool]:
    """Inject the fault now; the answer says what it reached (sockets, tokens)."""
    if fault is Fault.DROP:
        return {"sockets": ticker.drop()}
    if fault is Fault.SILENT or fault is Fault.RESUME:
        ticker.silent = fault is Fault.SILENT
        return {"silent": ticker.silent, "sockets": len(ticker.connections)}
    if fault is Fault.EXPIRE:
        return {"tokens": sessions.expire()}
    return {"sockets": ticker.malformed()}
