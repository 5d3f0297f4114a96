"""Risk refusals name the rule and the numbers; exits above the freeze quantity are sliced; the paper broker
fills at the touch of the current quotes."""

from __future__ import annotations

from datetime import date

from engines.broker import PaperBroker
from engines.charges import Side
from engines.market.instruments import Instrument
from engines.orders import Order, OrderState, OrderTag
from engines.portfolio import Book
from engines.quotes import Quotes
from engines.risk import RiskLimits, RiskManager
from tests.factories import BANK_FUT, DAY, FUT, INDEX, STOCK, T0, ticks

LIMITS = RiskLimits(max_daily_loss=2_500_000, per_symbol_max_loss=800_000, max_open_positions=1)


def order(
    instrument: Instrument = FUT, side: Side = Side.BUY, quantity: int = 65, tag: OrderTag = OrderTag.ENTRY
) -> Order:
    return Order("t-1", T0, instrument, side, quantity, tag)


def refusal(
    risk: RiskManager, book: Book, o: Order, price: int = 2_750_000, charges: int = 0, mark: int | None = None
) -> str | None:
    return risk.refusal(book, o, price, charges, price if mark is None else mark)


def test_broker_buys_at_the_offer_and_sells_at_the_bid_of_the_current_quote() -> None:
    book, quotes = Book(100_000_000), Quotes()
    quotes.add([FUT, INDEX])
    batch = ticks([(T0, FUT, 27500.0, 27499.9, 27500.3), (T0, INDEX, 27400.0, None, None)])
    quotes.apply(batch, quotes.slots_of(batch.token))
    broker = PaperBroker(quotes, book, DAY)
    assert broker.touch(order()) == 2_750_030
    assert broker.touch(order(side=Side.SELL)) == 2_749_990
    assert broker.mark(order()) == 2_750_000
    assert broker.protection(order()) == 2_805_000  # 2% above the last price, on the 0.10 tick
    book.position(FUT).apply(Side.BUY, 65, 2_750_030, 0)
    selling = OrderState(order(side=Side.SELL), 2_749_990, T0, limit=broker.protection(order(side=Side.SELL)))
    levels = broker.executable(selling)
    assert levels == ((65, 2_749_990),)  # the best bid holds 1,000 lots
    sold = broker.fill(selling, levels)
    assert sold.realised == 65 * (2_749_990 - 2_750_030)
    assert book.quantity(FUT.symbol) == 65  # a fill is a preview until the engine books it
    assert broker.touch(order(INDEX)) is None  # an index has no depth
    assert broker.touch(order(BANK_FUT)) is None  # not subscribed


def test_reducing_orders_pass_every_limit() -> None:
    book = Book(100_000_000)
    book.position(FUT).apply(Side.BUY, 65, 2_750_000, 0)
    risk = RiskManager(LIMITS, DAY)
    risk.state.halted = risk.state.trading_closed = True
    risk.state.blocked.add(FUT.symbol)
    assert refusal(risk, book, order(side=Side.SELL, tag=OrderTag.EXIT)) is None


def test_each_limit_refuses_new_risk_with_its_reason() -> None:
    book = Book(100_000_000)
    risk = RiskManager(LIMITS, DAY)
    assert refusal(risk, book, order()) is None
    risk.state.halted = True
    assert refusal(risk, book, order()) == "daily loss limit (25000.00) breached today; no new entries"
    risk.state.halted = False
    risk.state.blocked.add(FUT.symbol)
    assert refusal(risk, book, order()) == "NIFTY26DECFUT hit its loss limit (8000.00) earlier today"
    risk.state.blocked.clear()
    risk.state.trading_closed = True
    assert refusal(risk, book, order()) == "past square-off time; no new entries"
    risk.state.trading_closed = False
    book.position(STOCK).apply(Side.BUY, 10, 150_000, 0)
    assert refusal(risk, book, order()) == "max_open_positions (1) already open"


def test_non_whole_lots_are_rejected_for_entries_and_exits() -> None:
    book = Book(100_000_000)
    risk = RiskManager(LIMITS, DAY)
    expected = (
        "quantity 100 is not a multiple of the lot size (65) of NIFTY26DECFUT; F&O orders are in whole lots"
    )
    assert refusal(risk, book, order(quantity=100)) == expected
    book.position(FUT).apply(Side.BUY, 130, 2_750_000, 0)
    assert refusal(risk, book, order(side=Side.SELL, quantity=100, tag=OrderTag.EXIT)) == expected
    assert refusal(risk, Book(100_000_000), order(STOCK, quantity=7), price=150_000) is None  # single shares


def test_entries_above_the_freeze_quantity_are_refused_exits_are_sliced() -> None:
    risk = RiskManager(LIMITS, DAY)
    # NIFTY freezes at 1800 units (rules/freeze_quantities.csv): 27 lots of 65 = 1755 per slice.
    assert refusal(risk, Book(10**12), order(quantity=65 * 28)) == (
        "quantity 1820 exceeds the NIFTY freeze limit of 1800 units per order; place smaller orders"
    )
    assert risk.slices(FUT, 65 * 60, OrderTag.EXIT) == [1755, 1755, 390]
    assert risk.slices(FUT, 65 * 60, OrderTag.SQUARE_OFF) == [1755, 1755, 390]
    assert risk.slices(FUT, 65 * 60, OrderTag.ENTRY) == [3900]  # refused whole by `refusal`
    assert risk.slices(FUT, 1755, OrderTag.EXIT) == [1755]
    assert risk.slices(STOCK, 100_000, OrderTag.EXIT) == [100_000]  # no freeze on cash stocks


def test_freeze_quantities_are_dated() -> None:
    # BANKNIFTY's freeze quantity went 900 -> 600 on 3 Nov 2025.
    assert RiskManager(LIMITS, date(2025, 10, 31)).freeze_quantity(BANK_FUT) == 900
    assert RiskManager(LIMITS, date(2025, 11, 3)).freeze_quantity(BANK_FUT) == 600


def test_margin_check_uses_the_fill_price_and_says_it_as_kite_does() -> None:
    book = Book(capital=200_000_00)  # 2 lakh: a NIFTY lot needs about 2.1 lakh of margin
    assert refusal(RiskManager(LIMITS, DAY), book, order()) == (
        "Insufficient funds. Required margin is 214500.00 but available margin is 200000.00"
    )


def test_an_entry_whose_own_charges_and_spread_breach_the_daily_limit_is_refused() -> None:
    book = Book(100_000_000)
    loser = book.position(STOCK)
    loser.apply(Side.BUY, 100, 150_000, 0)
    loser.apply(Side.SELL, 100, 125_100, 0)  # realised -24,900.00
    risk = RiskManager(RiskLimits(2_500_000, 10**9, 10), DAY)
    # Buying at 27500.30 marked at 27500.00 costs 65 x 0.30 = 19.50 plus 100.00 of charges: net -25,019.50.
    assert refusal(risk, book, order(), price=2_750_030, charges=10_000, mark=2_750_000) == (
        "daily loss limit: this order's charges and spread would take the day's net P&L to -25019.50, "
        "at or past -25000.00"
    )
    assert refusal(risk, book, order(), price=2_750_030, charges=1_000, mark=2_750_000) is None


def test_breaches_report_daily_and_per_symbol_losses() -> None:
    book = Book(100_000_000)
    position = book.position(FUT)
    position.apply(Side.BUY, 65, 2_750_000, 0)
    risk = RiskManager(LIMITS, DAY)
    position.last_price = 2_750_000 - 12_400  # -8060 rupees on 65 units
    assert risk.breaches(book) == (False, ["NIFTY26DECFUT"])
    position.last_price = 2_750_000 - 40_000  # -26000 rupees
    assert risk.breaches(book) == (True, ["NIFTY26DECFUT"])
    risk.state.halted = True
    risk.state.blocked.add(FUT.symbol)
    assert risk.breaches(book) == (False, [])
