"""Small builders for instruments, ticks and bars used across the unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np

from engines.market.calendar import IST, ist, ms
from engines.market.instruments import Instrument, Kind, OptionChain
from engines.market.ticks import DEPTH, TickBatch
from engines.portfolio import Book, Position
from engines.quotes import Bar

DAY = date(2026, 11, 27)
MOMENT = datetime(2026, 11, 27, 10, 0, tzinfo=IST)
T0 = ms(MOMENT)
FUT = Instrument(
    1002 << 8 | 2,
    "NIFTY26DECFUT",
    "NFO",
    "NFO-FUT",
    Kind.FUT,
    "NIFTY",
    10,
    65,
    date(2026, 12, 29),
    0,
    "NIFTY",
)
BANK_FUT = Instrument(
    1003 << 8 | 2,
    "BANKNIFTY26DECFUT",
    "NFO",
    "NFO-FUT",
    Kind.FUT,
    "BANKNIFTY",
    20,
    30,
    date(2026, 12, 29),
    0,
    "BANKNIFTY",
)
STOCK = Instrument(2885 << 8 | 1, "RELIANCE", "NSE", "NSE", Kind.EQ, "RELIANCE INDUSTRIES", 5, 1)
INDEX = Instrument(256265, "NIFTY 50", "NSE", "INDICES", Kind.INDEX, "NIFTY 50", 0, 0, underlying="NIFTY")


def option(strike: int, kind: Kind, token: int | None = None) -> Instrument:
    return Instrument(
        token or (50_000 + strike // 10 + (1 if kind is Kind.PE else 0)) << 8 | 2,
        f"NIFTY26D01{strike}{kind}",
        "NFO",
        "NFO-OPT",
        kind,
        "NIFTY",
        5,
        65,
        date(2026, 12, 1),
        strike * 100,
        "NIFTY",
    )


def ticks(
    rows: Sequence[tuple[int, Instrument, float, float | None, float | None]], volume: int = 0
) -> TickBatch:
    """A batch from (ts_ms, instrument, last, bid, ask) rows in rupees; bid/ask None leave that side empty.
    Each quote has one level of 1,000 lots at the touch and four more a tick apart."""
    n = len(rows)
    batch = {
        "ts": np.array([r[0] for r in rows], dtype=np.int64),
        "token": np.array([r[1].token for r in rows], dtype=np.int64),
        "last_price": np.array([round(r[2] * 100) for r in rows], dtype=np.int64),
        "last_quantity": np.ones(n, dtype=np.int64),
        "volume": np.full(n, volume, dtype=np.int64),
        "oi": np.zeros(n, dtype=np.int64),
    }
    for side, column, sign in (("bid", 3, -1), ("ask", 4, 1)):
        prices = np.zeros((n, DEPTH), dtype=np.int64)
        sizes = np.zeros((n, DEPTH), dtype=np.int64)
        for i, row in enumerate(rows):
            touch = row[column]
            if touch is None:
                continue
            tick = max(row[1].tick, 1)
            prices[i] = [round(float(touch) * 100) + sign * level * tick for level in range(DEPTH)]
            sizes[i] = 1000 * max(row[1].lot_size, 1)
        batch[f"{side}_price"] = prices
        batch[f"{side}_quantity"] = sizes
        batch[f"{side}_orders"] = (sizes > 0).astype(np.int64)
    return TickBatch(**batch)


def bar(instrument: Instrument, close: float, minute: int = 0) -> Bar:
    return Bar(instrument, T0 + minute * 60_000, close, close, close, close, 0)


class FakeContext:
    """The parts of engines.strategies.context.Context a strategy uses, recording its requests."""

    def __init__(self, chains: dict[str, OptionChain] | None = None) -> None:
        self.strategy = "test"
        self.now_ms = T0
        self.warming_up = False
        self.book = Book(10**12)
        self.chains = chains or {}
        self.targets: list[tuple[str, int, str]] = []
        self.orders: list[tuple[str, str, int, str, float | None]] = []

    @property
    def now(self) -> datetime:
        return ist(self.now_ms)

    def position(self, instrument: Instrument) -> int:
        return self.book.quantity(instrument.symbol)

    def positions(self) -> list[Position]:
        return self.book.open_positions()

    def average_price(self, instrument: Instrument) -> float:
        position = self.book.positions.get(instrument.symbol)
        return position.average_price / 100 if position and position.quantity else 0.0

    def chain(self, underlying: str) -> OptionChain:
        return self.chains[underlying]

    def target(self, instrument: Instrument, quantity: int, reason: str, at: float | None = None) -> None:
        self.targets.append((instrument.symbol, quantity, reason))

    def buy(self, instrument: Instrument, quantity: int, reason: str, **kw: object) -> str:
        return self._order("BUY", instrument, quantity, reason, kw)

    def sell(self, instrument: Instrument, quantity: int, reason: str, **kw: object) -> str:
        return self._order("SELL", instrument, quantity, reason, kw)

    def cancel(self, order_id: str, reason: str) -> bool:
        self.orders.append(("CANCEL", order_id, 0, reason, None))
        return True

    def _order(
        self, side: str, instrument: Instrument, quantity: int, reason: str, kw: dict[str, object]
    ) -> str:
        trigger = kw.get("trigger_price")
        self.orders.append((side, instrument.symbol, quantity, reason, float(trigger) if trigger else None))
        return f"o-{len(self.orders)}"
