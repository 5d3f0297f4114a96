"""Small builders for instruments, ticks and bars used across the unit tests."""

from __future__ import annotations

from datetime import date, datetime

from engines.bars import Bar
from engines.instruments import Instrument, Kind, Underlying
from engines.market.feed import Tick
from engines.nse_calendar import IST

MOMENT = datetime(2026, 11, 27, 10, 0, tzinfo=IST)
FUT = Instrument(
    1002, "NIFTY26DECFUT", "NFO", Kind.FUT, "NIFTY", 10, 65, date(2026, 12, 29), underlying=Underlying.NIFTY
)
STOCK = Instrument(2001, "RELIANCE", "NSE", Kind.EQ, "RELIANCE INDUSTRIES", 5, 1)
INDEX = Instrument(256265, "NIFTY 50", "NSE", Kind.INDEX, "NIFTY", 5, 0, underlying=Underlying.NIFTY)


def option(strike: int, kind: Kind, token: int) -> Instrument:
    return Instrument(
        token,
        f"NIFTY26D01{strike}{kind}",
        "NFO",
        kind,
        "NIFTY",
        5,
        65,
        date(2026, 12, 1),
        strike * 100,
        Underlying.NIFTY,
    )


def quote(instrument: Instrument, bid: float, ask: float, last: float | None = None) -> Tick:
    return {
        "tradable": True,
        "mode": "full",
        "instrument_token": instrument.token,
        "last_price": ask if last is None else last,
        "last_traded_quantity": 1,
        "volume_traded": 100,
        "last_trade_time": MOMENT,
        "exchange_timestamp": MOMENT,
        "depth": {
            "buy": [{"quantity": 1000, "price": bid, "orders": 1}],
            "sell": [{"quantity": 1000, "price": ask, "orders": 1}],
        },
    }


def bar(instrument: Instrument, close: float, minute: int = 0) -> Bar:
    return Bar(instrument.token, MOMENT.replace(minute=minute), close, close, close, close, 0)
