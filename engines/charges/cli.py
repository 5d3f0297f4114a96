"""`python -m engines.charges ORDER [ORDER ...]`: Zerodha's charges of the orders given on the command line,
printed as the `data` array of Kite's virtual contract note (JSON). `main(argv)` is the whole command, so
another CLI can mount it as a subcommand in one line.

Exit codes: 0 printed, 2 a bad order, option or date (the message names the argument, the value and the fix).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import NoReturn

from engines.charges.model import GstSupply, Trade, default_product, kite_number
from engines.charges.note import contract_note
from engines.charges.order import trade_charges
from engines.errors import ConfigError, ExitCode
from engines.market.calendar import IST
from engines.market.instruments import Kind
from engines.money import PAISE_PER_RUPEE
from engines.vocabulary import Product, Side

SYNTAX = "SIDE:EXCHANGE:TRADINGSYMBOL:QUANTITY@PRICE[:PRODUCT]"
EXAMPLES = (
    "BUY:NSE:RELIANCE:10@1500.50:CNC",
    "SELL:NFO:NIFTY26DECFUT:65@26010.2",
    "BUY:NFO:NIFTY26DEC26000CE:65@124.4",
)
_SYMBOL = re.compile(r"^[A-Z0-9&\-]+$")
_SUFFIX_KIND = (("FUT", Kind.FUT), ("CE", Kind.CE), ("PE", Kind.PE))


def parse_order(text: str) -> Trade:
    """One ORDER argument as a Trade; a ConfigError names what is wrong and how to write it."""

    def fail(problem: str) -> NoReturn:
        raise ConfigError(f"{text!r}: {problem}")

    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (4, 5):
        fail(f"expected {SYNTAX}, e.g. {EXAMPLES[0]}")
    side, exchange, symbol, amount = (p.upper() for p in parts[:4])
    if side not in Side.__members__:
        fail(f"side {parts[0]!r} must be BUY or SELL")
    if exchange not in ("NSE", "NFO"):
        fail(f"exchange {parts[1]!r} is not supported; use NSE (cash) or NFO (F&O)")
    if not _SYMBOL.match(symbol):
        fail(f"tradingsymbol {parts[2]!r} must be Kite's, e.g. RELIANCE or NIFTY26DECFUT")
    kind = _kind(exchange, symbol)
    if kind is None:
        fail(f"NFO tradingsymbol {parts[2]!r} must end in FUT, CE or PE, e.g. NIFTY26DEC26000CE")
    quantity, at, price = amount.partition("@")
    if not at:
        fail(f"{parts[3]!r} must be QUANTITY@PRICE, e.g. 10@1500.50")
    if not (quantity.isascii() and quantity.isdigit()) or int(quantity) == 0:
        fail(f"quantity {quantity!r} must be a whole number of units above 0, e.g. 65")
    try:
        paise = Decimal(price) * PAISE_PER_RUPEE
    except InvalidOperation:
        paise = Decimal(0)
    if not paise.is_finite() or paise <= 0 or paise != paise.to_integral_value():
        fail(f"price {price!r} must be rupees above 0 with at most 2 decimals, e.g. 1500.50")
    allowed = (Product.MIS, Product.CNC) if kind is Kind.EQ else (Product.MIS, Product.NRML)
    product = parts[4].upper() if len(parts) == 5 else default_product(kind).value
    if product not in allowed:
        where = "NSE cash" if kind is Kind.EQ else "NFO"
        choices = " or ".join(allowed)
        fail(f"product {parts[4]!r} is not for {where}; use {choices} (default {default_product(kind)})")
    return Trade(kind, symbol, Side(side), int(quantity), int(paise), Product(product))


def _kind(exchange: str, symbol: str) -> Kind | None:
    """EQ on NSE; on NFO the type Kite's tradingsymbol ends with (FUT, CE, PE), or None."""
    if exchange == "NSE":
        return Kind.EQ
    return next((kind for suffix, kind in _SUFFIX_KIND if symbol.endswith(suffix)), None)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2026-04-01"
        ) from None


def _order(text: str) -> Trade:
    try:
        return parse_order(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    today = datetime.now(IST).date()
    p = argparse.ArgumentParser(
        prog="python -m engines.charges",
        description="Print Zerodha's charges of ORDERs as Kite's virtual contract note shows them "
        "(JSON, rupees).",
        epilog=(
            f"ORDER is {SYNTAX}, e.g. {' '.join(EXAMPLES)}. SIDE is BUY or SELL; EXCHANGE is NSE (cash) "
            "or NFO (F&O, the instrument type from the symbol's FUT/CE/PE suffix); PRICE is rupees (the "
            "premium for options); PRODUCT defaults to MIS on NSE and NRML on NFO (CNC is delivery). "
            "Exit codes: 0 printed, 2 bad order, option or date."
        ),
    )
    p.add_argument("orders", metavar="ORDER", nargs="+", type=_order, help=f"an executed order, {SYNTAX}")
    p.add_argument(
        "--date",
        type=_date,
        default=today,
        help="trade date YYYY-MM-DD, which picks the rates (default: today in IST, %(default)s)",
    )
    p.add_argument(
        "--gst",
        choices=[s.value for s in GstSupply],
        default=GstSupply.INTERSTATE.value,
        help="igst for a client outside Karnataka, cgst-sgst inside it (default: %(default)s)",
    )
    p.add_argument(
        "--contract-note",
        action="store_true",
        help="also print the day's contract note for all ORDERs together and the DP charges "
        "(default: the per-order virtual contract note only)",
    )
    return p


def virtual_contract_note(trades: Sequence[Trade], day: date, supply: GstSupply) -> list[dict[str, object]]:
    """The `data` array of Kite's virtual contract note for `trades`, one entry per order. DP charges are not
    on it: Zerodha posts them to the ledger (they are in the --contract-note output)."""
    return [
        {
            "transaction_type": trade.side.value,
            "tradingsymbol": trade.symbol,
            "exchange": trade.exchange,
            "variety": "regular",
            "product": trade.product.value,
            "order_type": "MARKET",
            "quantity": trade.quantity,
            "price": kite_number(trade.price),
            "charges": trade_charges(trade, day, supply=supply).to_contract_note(),
        }
        for trade in trades
    ]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    supply = GstSupply(args.gst)
    try:
        data = virtual_contract_note(args.orders, args.date, supply)
        out: object = data
        if args.contract_note:
            out = {
                "orders": data,
                "contract_note": contract_note(args.orders, args.date, supply=supply).to_json(),
            }
    except ConfigError as exc:  # a date the rates do not cover
        print(f"python -m engines.charges: error: --date {args.date.isoformat()}: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    print(json.dumps(out, indent=2))
    return ExitCode.OK
