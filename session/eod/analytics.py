"""The day's analytics: pure functions from parsed artifacts (session/eod/inputs.py) to tables.

    orders.csv rows + fills (journal, else orders.csv) -> trades -> figures per engine, strategy, symbol
                                                        -> equity curve -> drawdown, exposure

Money stays in int paise (int64 columns, Python ints); it becomes rupee text only when the report is
built, so every figure repeats the ledger to the paisa. Floats appear only in ratios (win rate,
profit factor, slippage in basis points) and in the charts.

The P&L of a group (an engine, a strategy, a symbol) is the sum of its orders.csv rows, so the groups
add up to the engine and the engines to the account exactly. An order placed by the engine itself
(a risk exit or the square-off: empty `strategy`) counts for the strategy whose trade it closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

import pandas as pd

from engines.money import Paise
from engines.orders import OrderStatus
from session.eod.inputs import CHARGE_ITEMS

Key = tuple[str, str]  # (engine, strategy or symbol)
TRADE_COLUMNS = (
    "engine",
    "symbol",
    "strategy",
    "opened_ist",
    "closed_ist",
    "realised_paise",
    "charges_paise",
    "pnl_paise",
    "closed",
)


def todays_orders(orders: pd.DataFrame, day: str) -> pd.DataFrame:
    """The rows of orders that ended on `day` (YYYY-MM-DD), by engine and seq."""
    todays = orders[orders["ts_ist"].str.startswith(day)]
    return todays.sort_values(["engine", "seq"], kind="stable").reset_index(drop=True)


# --- trades ------------------------------------------------------------------------------------------


def trades(fills: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Round trips per (engine, symbol), and the strategy each filled order counts for.

    Walking one symbol's fills in seq order, a trade opens when the signed position leaves 0 and
    closes when it returns to 0; it belongs to the strategy of the order that opened it. A fill that
    flips the position through zero closes one trade and opens the next: its realised P&L belongs to
    the trade it closes and its charges are split between the two by units (rounded half up), so the
    trades' charges add up to the fills' exactly. A trade's P&L is its realised P&L minus its charges.
    Returns the table (TRADE_COLUMNS, open trades with `closed` False and `closed_ist` "") and
    order_id -> the strategy of the trade its first fill belongs to."""
    rows: list[tuple[object, ...]] = []
    attributed: dict[str, str] = {}
    ordered = fills.sort_values(["engine", "symbol", "seq"], kind="stable")
    for (engine_key, symbol_key), group in ordered.groupby(["engine", "symbol"], sort=True):
        engine, symbol = str(engine_key), str(symbol_key)
        position, realised, charges = 0, 0, 0
        strategy, opened = "", ""
        for ts, order_id, order_strategy, units, fill_realised, fill_charges in zip(
            group["ts_ist"],
            group["order_id"],
            group["strategy"],
            group["units"].tolist(),
            group["realised_paise"].tolist(),
            group["charges_paise"].tolist(),
            strict=True,
        ):
            if not position:
                strategy, opened = order_strategy, ts
            attributed.setdefault(order_id, strategy)
            after = position + units
            if position and after and (position > 0) != (after > 0):  # flips through zero
                closing = share(fill_charges, abs(position), abs(units))
                rows.append(_trade(engine, symbol, strategy, opened, ts, realised + fill_realised,
                                   charges + closing))  # fmt: skip
                strategy, opened = order_strategy, ts
                realised, charges = 0, fill_charges - closing
            elif position and not after:  # back to flat
                rows.append(_trade(engine, symbol, strategy, opened, ts, realised + fill_realised,
                                   charges + fill_charges))  # fmt: skip
                realised, charges = 0, 0
            else:  # opens, adds to or reduces the trade
                realised += fill_realised
                charges += fill_charges
            position = after
        if position:
            rows.append(_trade(engine, symbol, strategy, opened, "", realised, charges))
    table = pd.DataFrame.from_records(rows, columns=list(TRADE_COLUMNS))
    for column in ("realised_paise", "charges_paise", "pnl_paise"):
        table[column] = table[column].astype("int64")
    table["closed"] = table["closed"].astype(bool)
    return table, attributed


def _trade(
    engine: str, symbol: str, strategy: str, opened: str, closed: str, realised: int, charges: int
) -> tuple[object, ...]:
    return (engine, symbol, strategy, opened, closed, realised, charges, realised - charges, bool(closed))


def share(amount: Paise, part: int, whole: int) -> Paise:
    """amount x part / whole, rounded half up to the paisa."""
    return int((Decimal(amount) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def strategy_of_orders(orders: pd.DataFrame, attributed: dict[str, str]) -> pd.Series:
    """Each order's strategy: its own, or for the engine's own orders (empty) the strategy of the
    trade it closed; "" when there is none (an engine order that filled nothing)."""
    mapped = pd.Series([attributed.get(o, "") for o in orders["order_id"]], index=orders.index, dtype=str)
    return orders["strategy"].where(orders["strategy"] != "", mapped).astype(str)


# --- figures -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Closed trades' statistics; a win has P&L > 0, a loss P&L <= 0."""

    trades: int
    wins: int
    losses: int
    gross_wins: Paise
    gross_losses: Paise  # <= 0

    @classmethod
    def of(cls, pnls: Sequence[int]) -> TradeStats:
        wins = [p for p in pnls if p > 0]
        losses = [p for p in pnls if p <= 0]
        return cls(len(pnls), len(wins), len(losses), sum(wins), sum(losses))

    @property
    def win_rate(self) -> float | None:
        return round(self.wins / self.trades, 4) if self.trades else None

    @property
    def average_win(self) -> Paise | None:
        return share(self.gross_wins, 1, self.wins) if self.wins else None

    @property
    def average_loss(self) -> Paise | None:
        return share(self.gross_losses, 1, self.losses) if self.losses else None

    @property
    def profit_factor(self) -> float | None:
        """Gross wins / gross losses; None when nothing was lost (no trade, or no losing amount)."""
        return round(self.gross_wins / -self.gross_losses, 4) if self.gross_losses < 0 else None


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of a group of orders and trades: an engine, a strategy, a symbol, the account."""

    realised: Paise
    charges: Paise
    charge_items: dict[str, Paise]  # orders.csv charge column -> paise
    unrealised: Paise
    turnover: Paise
    placed: int
    filled: int  # COMPLETE
    partly_filled: int  # CANCELLED after filling part
    cancelled: int
    rejected: int
    stats: TradeStats
    trades_open: int
    slippage: Paise  # paid beyond the touch (positive = worse than the touch)
    slippage_base: Paise  # the touch value of the orders that had one: what slippage_bps divides by
    slippage_orders: int

    @property
    def net(self) -> Paise:
        return self.realised - self.charges + self.unrealised

    @property
    def slippage_bps(self) -> float | None:
        return round(self.slippage / self.slippage_base * 10_000, 2) if self.slippage_base else None


def figures(orders: pd.DataFrame, trades: pd.DataFrame, unrealised: Paise) -> Figures:
    """The figures of `orders` (orders.csv rows as inputs.read_orders types them) and their `trades`."""
    status = orders["status"]
    slip, base = slippage(orders)
    closed = trades[trades["closed"]]
    return Figures(
        realised=int(orders["realised_paise"].sum()),
        charges=int(orders["charges_paise"].sum()),
        charge_items={item: int(orders[f"{item}_paise"].sum()) for item in CHARGE_ITEMS},
        unrealised=unrealised,
        turnover=int(orders["value_paise"].sum()),
        placed=len(orders),
        filled=int((status == OrderStatus.COMPLETE.value).sum()),
        partly_filled=int(((status == OrderStatus.CANCELLED.value) & (orders["filled_quantity"] > 0)).sum()),
        cancelled=int((status == OrderStatus.CANCELLED.value).sum()),
        rejected=int((status == OrderStatus.REJECTED.value).sum()),
        stats=TradeStats.of(closed["pnl_paise"].tolist()),
        trades_open=int((~trades["closed"]).sum()),
        slippage=int(slip.sum()),
        slippage_base=int(base.sum()),
        slippage_orders=len(slip),
    )


def group_figures(
    orders: pd.DataFrame,
    trades: pd.DataFrame,
    order_key: str,
    trade_key: str,
    unrealised: Mapping[Key, Paise],
) -> dict[Key, Figures]:
    """`figures` of every (engine, value) group at once: orders grouped by (engine, `order_key`),
    trades by (engine, `trade_key`), each group's unrealised P&L from `unrealised`. Two groupbys, however
    many groups (a day can hold hundreds of symbols)."""
    slip, base = slippage(orders)
    status = orders["status"]
    per_order = pd.DataFrame(
        {
            "engine": orders["engine"],
            "key": orders[order_key],
            "placed": 1,
            "realised": orders["realised_paise"],
            "charges": orders["charges_paise"],
            "turnover": orders["value_paise"],
            **{item: orders[f"{item}_paise"] for item in CHARGE_ITEMS},
            "filled": (status == OrderStatus.COMPLETE.value).astype("int64"),
            "partly_filled": (
                (status == OrderStatus.CANCELLED.value) & (orders["filled_quantity"] > 0)
            ).astype("int64"),
            "cancelled": (status == OrderStatus.CANCELLED.value).astype("int64"),
            "rejected": (status == OrderStatus.REJECTED.value).astype("int64"),
            "slippage": slip.reindex(orders.index, fill_value=0),
            "slippage_base": base.reindex(orders.index, fill_value=0),
            "slippage_orders": orders.index.isin(slip.index).astype("int64"),
        }
    )
    closed, pnl = trades["closed"], trades["pnl_paise"]
    win, loss = closed & (pnl > 0), closed & (pnl <= 0)
    per_trade = pd.DataFrame(
        {
            "engine": trades["engine"],
            "key": trades[trade_key],
            "closed": closed.astype("int64"),
            "open": (~closed).astype("int64"),
            "wins": win.astype("int64"),
            "losses": loss.astype("int64"),
            "gross_wins": pnl.where(win, 0),
            "gross_losses": pnl.where(loss, 0),
        }
    )
    o = {k: dict(v) for k, v in per_order.groupby(["engine", "key"], sort=False).sum().iterrows()}
    t = {k: dict(v) for k, v in per_trade.groupby(["engine", "key"], sort=False).sum().iterrows()}
    out: dict[Key, Figures] = {}
    for raw_key in set(o) | set(t) | set(unrealised):
        engine, value = cast(tuple[object, object], raw_key)
        key = (str(engine), str(value))
        a, b = o.get(raw_key, {}), t.get(raw_key, {})
        out[key] = Figures(
            realised=int(a.get("realised", 0)),
            charges=int(a.get("charges", 0)),
            charge_items={item: int(a.get(item, 0)) for item in CHARGE_ITEMS},
            unrealised=unrealised.get(key, 0),
            turnover=int(a.get("turnover", 0)),
            placed=int(a.get("placed", 0)),
            filled=int(a.get("filled", 0)),
            partly_filled=int(a.get("partly_filled", 0)),
            cancelled=int(a.get("cancelled", 0)),
            rejected=int(a.get("rejected", 0)),
            stats=TradeStats(
                int(b.get("closed", 0)),
                int(b.get("wins", 0)),
                int(b.get("losses", 0)),
                int(b.get("gross_wins", 0)),
                int(b.get("gross_losses", 0)),
            ),
            trades_open=int(b.get("open", 0)),
            slippage=int(a.get("slippage", 0)),
            slippage_base=int(a.get("slippage_base", 0)),
            slippage_orders=int(a.get("slippage_orders", 0)),
        )
    return out


def slippage(orders: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per filled order that had a touch: paise paid beyond the touch (average price against the best
    price on its side when it was placed; positive = worse), and the touch value it is measured on."""
    measured = orders[(orders["filled_quantity"] > 0) & (orders["touch_paise"] > 0)]
    at_touch = measured["touch_paise"] * measured["filled_quantity"]
    sign = measured["side"].map({"BUY": 1, "SELL": -1}).astype("int64")
    return sign * (measured["value_paise"] - at_touch), at_touch


def reason_prefix(reason: str) -> str:
    """A rejection or cancellation reason's first clause, which names the rule
    ("insufficient margin: required ..."): the text before the first ':' or ';'."""
    for i, char in enumerate(reason):
        if char in ":;":
            reason = reason[:i]
            break
    return reason.strip() or "(no reason given)"


def reasons(orders: pd.DataFrame, status: OrderStatus) -> dict[str, int]:
    """Orders of `status` counted by reason_prefix, most frequent first (ties by name)."""
    counts = orders.loc[orders["status"] == status.value, "reason"].map(reason_prefix).value_counts()
    return dict(sorted(((str(k), int(v)) for k, v in counts.items()), key=lambda kv: (-kv[1], kv[0])))


# --- the equity curve ---------------------------------------------------------------------------------

CURVE_COLUMNS = ("ts_ist", "equity_paise", "exposure_paise")


def equity_curve(fills: pd.DataFrame) -> pd.DataFrame:
    """Net P&L and gross exposure after each fill, in time order (several engines: the account).

    Each symbol is marked at its last fill price: its P&L so far is the cash its fills moved plus the
    position at that price (sell value - buy value + units x price), which is its realised P&L once it
    is flat; the curve is their sum minus the charges so far. Exposure is the sum of |units| x price.
    Columns CURVE_COLUMNS; one row per fill."""
    f = fills.sort_values(["ts_ist", "engine", "seq"], kind="stable")
    cash = f["value_paise"].where(f["units"] < 0, -f["value_paise"])
    by_symbol = [f["engine"], f["symbol"]]
    units = f["units"].groupby(by_symbol, sort=False).cumsum()
    term = cash.groupby(by_symbol, sort=False).cumsum() + units * f["price_paise"]
    exposure = units.abs() * f["price_paise"]
    step = term - term.groupby(by_symbol, sort=False).shift(fill_value=0)
    exposure_step = exposure - exposure.groupby(by_symbol, sort=False).shift(fill_value=0)
    return pd.DataFrame(
        {
            "ts_ist": f["ts_ist"],
            "equity_paise": (step.cumsum() - f["charges_paise"].cumsum()).astype("int64"),
            "exposure_paise": exposure_step.cumsum().astype("int64"),
        }
    ).reset_index(drop=True)


def framed(curve: pd.DataFrame, start_ist: str | None, end_ist: str | None, end_equity: Paise,
           end_exposure: Paise) -> pd.DataFrame:  # fmt: skip
    """The curve between a start point (0 before any fill) and an end point (the day's net P&L as the
    checkpoint marks it), each only when given and outside the curve's span."""
    parts = []
    if start_ist is not None and (curve.empty or start_ist < curve["ts_ist"].iloc[0]):
        parts.append(pd.DataFrame({"ts_ist": [start_ist], "equity_paise": [0], "exposure_paise": [0]}))
    parts.append(curve)
    if end_ist is not None and (curve.empty or end_ist >= curve["ts_ist"].iloc[-1]):
        parts.append(
            pd.DataFrame(
                {"ts_ist": [end_ist], "equity_paise": [end_equity], "exposure_paise": [end_exposure]}
            )
        )
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else curve.reset_index(drop=True)
    return out.astype({"equity_paise": "int64", "exposure_paise": "int64"})


@dataclass(frozen=True, slots=True)
class Drawdown:
    amount: Paise  # >= 0: the largest fall from a running peak (the day starts at a peak of 0)
    peak_ist: str | None
    trough_ist: str | None


def drawdown(curve: pd.DataFrame) -> Drawdown:
    """The largest fall of the equity curve from its running peak, the start (0) counting as a peak."""
    if curve.empty:
        return Drawdown(0, None, None)
    equity = curve["equity_paise"].reset_index(drop=True)
    peak = equity.cummax().clip(lower=0)
    fall = peak - equity
    trough = int(fall.to_numpy().argmax())
    amount = int(fall.iloc[trough])
    if amount <= 0:
        return Drawdown(0, None, None)
    before = equity.iloc[: trough + 1]
    at_peak = before[before == peak.iloc[trough]]
    peak_ist = str(curve["ts_ist"].iloc[int(at_peak.index[-1])]) if len(at_peak) else None
    return Drawdown(amount, peak_ist, str(curve["ts_ist"].iloc[trough]))


def drawdown_series(curve: pd.DataFrame) -> pd.Series:
    """Equity minus its running peak (<= 0), the start counting as a peak of 0."""
    equity = curve["equity_paise"]
    return equity - equity.cummax().clip(lower=0)


def sampled(curve: pd.DataFrame, minutes: int = 5) -> pd.DataFrame:
    """The curve's last point in each `minutes` bucket of market time (and its first point), so the
    report can carry the shape of the day without every fill."""
    if curve.empty:
        return curve
    minute = curve["ts_ist"].str.slice(11, 13).astype(int) * 60 + curve["ts_ist"].str.slice(14, 16).astype(
        int
    )
    bucket = minute // minutes
    last = ~bucket.duplicated(keep="last")
    last.iloc[0] = True
    return curve[last.to_numpy()].reset_index(drop=True)
