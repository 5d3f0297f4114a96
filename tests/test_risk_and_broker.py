"""Risk refusals name the rule and the numbers; the paper broker fills at the touch."""

from __future__ import annotations

from datetime import date

from engines.broker import PaperBroker
from engines.charges import Side
from engines.orders import Fill, Order, OrderTag, Rejection
from engines.portfolio import Book
from engines.risk import RiskLimits, RiskManager
from tests.factories import FUT, INDEX, MOMENT, STOCK, quote

LIMITS = RiskLimits(max_daily_loss=2_500_000, per_symbol_max_loss=800_000, max_open_positions=1)


def order(instrument=FUT, side: Side = Side.BUY, quantity: int = 65) -> Order:  # type: ignore[no-untyped-def]
    return Order("t-1", MOMENT, instrument, side, quantity, OrderTag.ENTRY)


def test_broker_buys_at_the_ask_and_sells_at_the_bid() -> None:
    book = Book(100_000_000)
    broker = PaperBroker(book, date(2026, 11, 27))
    bought = broker.execute(order(), quote(FUT, 27499.9, 27500.3))
    assert isinstance(bought, Fill) and bought.price == 2_750_030
    sold = broker.execute(order(side=Side.SELL), quote(FUT, 27499.9, 27500.3))
    assert isinstance(sold, Fill) and sold.price == 2_749_990
    assert sold.realised == 65 * (2_749_990 - 2_750_030)
    assert book.charges == bought.charges.total + sold.charges.total


def test_broker_rejects_when_there_is_no_quote() -> None:
    broker = PaperBroker(Book(1), date(2026, 11, 27))
    rejected = broker.execute(order(), None)
    assert isinstance(rejected, Rejection) and rejected.reason == "no offer for NIFTY26DECFUT"
    index_tick = {"tradable": False, "instrument_token": INDEX.token, "last_price": 1.0}
    assert isinstance(broker.execute(order(INDEX), index_tick), Rejection)  # type: ignore[arg-type]


def test_reducing_orders_pass_every_limit() -> None:
    book = Book(100_000_000)
    book.position(FUT).apply(Side.BUY, 65, 2_750_000, 0)
    risk = RiskManager(LIMITS)
    risk.state.halted = risk.state.trading_closed = True
    risk.state.blocked.add(FUT.symbol)
    assert risk.refusal(book, order(side=Side.SELL), 2_750_000) is None


def test_each_limit_refuses_new_risk_with_its_reason() -> None:
    book = Book(100_000_000)
    risk = RiskManager(LIMITS)
    assert risk.refusal(book, order(), 2_750_000) is None
    risk.state.halted = True
    assert (
        risk.refusal(book, order(), 2_750_000) == "daily loss limit (25000.00) breached today; no new entries"
    )
    risk.state.halted = False
    risk.state.blocked.add(FUT.symbol)
    assert (
        risk.refusal(book, order(), 2_750_000) == "NIFTY26DECFUT hit its loss limit (8000.00) earlier today"
    )
    risk.state.blocked.clear()
    risk.state.trading_closed = True
    assert risk.refusal(book, order(), 2_750_000) == "past square-off time; no new entries"
    risk.state.trading_closed = False
    assert risk.refusal(book, order(quantity=65 * 28), 2_750_000) == (
        "quantity 1820 exceeds the NIFTY freeze limit (1800 units per order)"
    )
    book.position(STOCK).apply(Side.BUY, 10, 150_000, 0)
    assert risk.refusal(book, order(), 2_750_000) == "max_open_positions (1) already open"


def test_margin_check_uses_the_fill_price() -> None:
    book = Book(capital=200_000_00)  # 2 lakh: a NIFTY lot needs about 2.1 lakh of margin
    refusal = RiskManager(LIMITS).refusal(book, order(), 2_750_000)
    assert refusal == "insufficient margin: required 214500.00, available 200000.00"


def test_breaches_report_daily_and_per_symbol_losses() -> None:
    book = Book(100_000_000)
    position = book.position(FUT)
    position.apply(Side.BUY, 65, 2_750_000, 0)
    risk = RiskManager(LIMITS)
    position.last_price = 2_750_000 - 12_400  # -8060 rupees on 65 units
    assert risk.breaches(book) == (False, ["NIFTY26DECFUT"])
    position.last_price = 2_750_000 - 40_000  # -26000 rupees
    assert risk.breaches(book) == (True, ["NIFTY26DECFUT"])
    risk.state.halted = True
    risk.state.blocked.add(FUT.symbol)
    assert risk.breaches(book) == (False, [])
