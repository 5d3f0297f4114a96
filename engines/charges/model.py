"""The value objects of charges: a Trade to charge, itemised Charges in paise, and the rounding rules.

Every amount is computed exactly in Decimal rupees and becomes int paise only through `to_paise` (nearest
paisa, half up) or `to_rupee` (nearest rupee, fifty paise up: STT Rules 2004, rule 4). See the package
docstring for which component rounds where.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from engines.market.instruments import Kind
from engines.money import PAISE_PER_RUPEE, Paise
from engines.vocabulary import Product, Side

PCT = Decimal("0.01")
CRORE = Decimal(10_000_000)
_EXCHANGE_OF_KIND = {Kind.EQ: "NSE", Kind.FUT: "NFO", Kind.CE: "NFO", Kind.PE: "NFO"}


class GstSupply(StrEnum):
    """Which GST an invoice carries. Zerodha invoices from Bengaluru and the client's state is the place of
    supply, so a client in Karnataka pays CGST + SGST (half the rate each) and everyone else IGST."""

    INTERSTATE = "igst"
    INTRASTATE = "cgst-sgst"


def charge_segment(kind: Kind, product: Product) -> str:
    """The charge_rates.csv segment of an order of `product` in an instrument of `kind`."""
    if kind is Kind.EQ:
        if not product.for_equity:
            raise ValueError(
                f"product {product} is not for NSE equity (use MIS for intraday or CNC for delivery)"
            )
        return "EQ_DELIVERY" if product is Product.CNC else "EQ_INTRADAY"
    if kind in (Kind.FUT, Kind.CE, Kind.PE):
        if not product.for_derivatives:
            raise ValueError(f"product {product} is not for NFO {kind} (use NRML or MIS)")
        return "FUT" if kind is Kind.FUT else "OPT"
    raise ValueError(f"instrument kind {kind} is not tradable")


def default_product(kind: Kind) -> Product:
    """MIS for NSE cash (the engines trade intraday), NRML for F&O (charged exactly as MIS)."""
    return Product.MIS if kind is Kind.EQ else Product.NRML


@dataclass(frozen=True, slots=True)
class Trade:
    """One executed order, or one fill of it, to be charged. Prices in paise (the premium for options).

    Trades that share a non-empty `order_id` are fills of one executed order, and brokerage is charged per
    executed order (the 0.03% cap applies to the order's whole value); an empty `order_id` is its own order.
    """

    kind: Kind
    symbol: str
    side: Side
    quantity: int
    price: Paise
    product: Product
    order_id: str = ""

    def __post_init__(self) -> None:
        if self.quantity <= 0 or self.price <= 0:
            raise ValueError(
                f"{self.symbol}: quantity {self.quantity} and price {self.price} paise must both be above 0"
            )
        charge_segment(self.kind, self.product)  # refuses an index and a product the instrument cannot carry

    @property
    def exchange(self) -> str:
        return _EXCHANGE_OF_KIND[self.kind]

    @property
    def value(self) -> Paise:
        """Turnover of the trade: quantity x price (premium turnover for options)."""
        return self.quantity * self.price

    @property
    def segment(self) -> str:
        return charge_segment(self.kind, self.product)


@dataclass(frozen=True, slots=True)
class Charges:
    """Itemised charges in paise, each already rounded; every total is a sum of the rounded items.

    `exchange` is NSE's transaction charge including IPFT, as the contract note shows it. `igst`, or `cgst`
    and `sgst`, are the GST on brokerage + exchange + SEBI. `dp` is the DP charge including its GST: it is
    posted to the ledger, not to the contract note, so `note_total` leaves it out and `total` (what the
    trader pays) keeps it.
    """

    brokerage: Paise = 0
    stt: Paise = 0
    exchange: Paise = 0
    sebi: Paise = 0
    stamp: Paise = 0
    igst: Paise = 0
    cgst: Paise = 0
    sgst: Paise = 0
    dp: Paise = 0

    @property
    def gst(self) -> Paise:
        return self.igst + self.cgst + self.sgst

    @property
    def note_total(self) -> Paise:
        """What Kite's virtual contract note and the contract note show: everything but the DP charge."""
        return self.brokerage + self.stt + self.exchange + self.sebi + self.stamp + self.gst

    @property
    def total(self) -> Paise:
        return self.note_total + self.dp

    def items(self) -> dict[str, Paise]:
        """Paise by component (a flat copy: dataclasses.asdict's deep copy costs more on the hot path)."""
        return {name: getattr(self, name) for name in _COMPONENTS}

    def __add__(self, other: Charges) -> Charges:
        return Charges(**{k: v + getattr(other, k) for k, v in self.items().items()})

    def __sub__(self, other: Charges) -> Charges:
        return Charges(**{k: v - getattr(other, k) for k, v in self.items().items()})

    def to_json(self) -> dict[str, int]:
        """Paise by component, plus `gst` and `total` (the journal's `charges_paise`)."""
        return {**self.items(), "gst": self.gst, "total": self.total}

    def to_contract_note(self) -> dict[str, object]:
        """The `charges` block of Kite's virtual contract note (POST /charges/orders), in rupees as Kite's
        JSON writes them: a whole number of rupees as an integer, anything else as a float."""
        return {
            "transaction_tax": kite_number(self.stt),
            "transaction_tax_type": "stt",
            "exchange_turnover_charge": kite_number(self.exchange),
            "sebi_turnover_charge": kite_number(self.sebi),
            "brokerage": kite_number(self.brokerage),
            "stamp_duty": kite_number(self.stamp),
            "gst": {
                "igst": kite_number(self.igst),
                "cgst": kite_number(self.cgst),
                "sgst": kite_number(self.sgst),
                "total": kite_number(self.gst),
            },
            "total": kite_number(self.note_total),
        }


def to_paise(rupees: Decimal) -> Paise:
    """Rupees to the nearest paisa, half up."""
    return int((rupees * PAISE_PER_RUPEE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_rupee(rupees: Decimal) -> Paise:
    """Rupees to the nearest whole rupee, fifty paise or more up (STT Rules 2004, rule 4), in paise."""
    return int(rupees.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * PAISE_PER_RUPEE


def gst_on(base: Paise, gst_pct: Decimal, supply: GstSupply) -> dict[str, Paise]:
    """GST on `base` paise as the invoice lines it: IGST at the full rate, or CGST and SGST at half the rate,
    each rounded to the paisa on its own line."""
    rupees = Decimal(base) / PAISE_PER_RUPEE
    if supply is GstSupply.INTERSTATE:
        return {"igst": to_paise(rupees * gst_pct * PCT)}
    half = to_paise(rupees * gst_pct / 2 * PCT)
    return {"cgst": half, "sgst": half}


def kite_number(paise: Paise) -> int | float:
    """Paise as Kite's JSON writes rupees: 2000 -> 20, 46 -> 0.46."""
    whole, fraction = divmod(paise, PAISE_PER_RUPEE)
    return whole if fraction == 0 else paise / PAISE_PER_RUPEE


_COMPONENTS = tuple(f.name for f in fields(Charges))
