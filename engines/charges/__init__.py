"""Zerodha's charges on NSE cash and F&O, in int paise, at the dated rates of market/rules/charge_rates.csv.

Two figures, because Zerodha rounds per day where the engine books per fill:

    order_charges / trade_charges  one executed order, as Kite's virtual contract note shows it  (order.py)
    contract_note                  one client's trades of one day, as the contract note totals them  (note.py)

Rates (charge_rates.csv, one row per segment per circular; each column's source is in its header): brokerage
0.03% or Rs 20 per executed order, whichever is lower, for intraday (MIS) equity and futures, flat Rs 20 for
options, zero for delivery (CNC); STT 0.025% on intraday sells, 0.1% on delivery buys and sells, futures 0.02%
of sells and options 0.1% of premium sold until 31 Mar 2026, 0.05% and 0.15% from 1 Apr 2026 (Budget 2026);
NSE transaction charge incl. IPFT 0.00307% (cash), 0.00183% (futures), 0.03553% of premium (options), since 1
Oct 2024; SEBI fee Rs 10/crore; stamp duty on buys 0.003% (non-delivery), 0.015% (delivery), 0.002% (futures),
0.003% (options); GST 18% of brokerage + exchange charge + SEBI fee; DP charge Rs 13 + GST per scrip per day
of delivery sells.

Per order (the engine's per-fill figure; Kite's virtual contract note, POST /charges/orders, which "shows
order-wise charges" for the day's orders: tradingqna.com/t/149208): every component of the one order is
computed exactly in Decimal and rounded to the paisa, half up; GST is 18% of the rounded brokerage + exchange
+ SEBI (IGST, or CGST and SGST at 9% each rounded separately for a client in Karnataka, `GstSupply`); the
product decides the row (CNC: delivery rates; MIS: intraday; F&O: MIS and NRML alike). The DP charge, which is
per scrip per day, is carried by the CNC sell the caller marks `dp_due` (default True; pass False for later
sells of the same scrip that day); it is in `Charges.dp` and `Charges.total`, never in the contract-note JSON,
since Zerodha posts it to the ledger ("DP charges ... do not appear on the contract note":
support.zerodha.com, "What do DP charges mean?"; "not part of the virtual contract note":
tradingqna.com/t/149208).

The day's contract note (what Zerodha actually debits) differs from the sum of the orders in four ways:
1. STT is fixed per client, per scrip (per contract in F&O), per day and rounded to the nearest rupee, fifty
   paise or more up. STT Rules 2004, rule 3(a) (taxmanagementindia.com, indiankanoon.org): the value of an
   equity sale or purchase in netted settlement is the VWAP, rounded to the paisa, of all the person's trades
   in that share that day; rule 4: the STT "shall be rounded off to the nearest rupee" (fifty paise up). NSE's
   circular NSE/CMO/0146/2004 aggregates a client's buys and sells per security per day to compute it, and
   NSE's F&O STT reports state it at "client contract level". Zerodha: "STT/CTT charged will be rounded off to
   the nearest rupee" (its charges text as copied by fundfolio.freshdesk.com). UNCONFIRMED: whether the
   exchange rounds each leg (delivery, non-delivery) of a scrip separately; we round the scrip's sum once.
2. NSE cash is netted per scrip, whatever the product: the quantity both bought and sold that day is
   non-delivery (STT 0.025% of sells, stamp 0.003% of buys, at the VWAP / buy value), the excess of buys or of
   sells is delivery (0.1%, stamp 0.015%). So a CNC buy sold the same day is intraday, and a CNC order in a
   scrip squared off the same day pays intraday brokerage ("if you have bought a particular scrip in CNC and
   sold it on the same day, then the trade is considered intraday and intraday brokerage is applicable":
   support.zerodha.com, "What is the brokerage at Zerodha for equity?"). UNCONFIRMED: on a partial square-off
   we charge intraday brokerage on the whole CNC order, and split stamp duty by quantity.
3. Brokerage, exchange charges, SEBI fees and stamp duty are summed exactly over the clearing segment (NSE
   cash, NSE F&O) and rounded to the paisa once, as the contract note prints one figure per segment
   ("Scrip-wise charges are not available on the contract note"); GST is 18% of the segment's rounded
   brokerage + exchange + SEBI. Brokerage stays per executed order (fills sharing an order_id are one order).
   UNCONFIRMED: Zerodha's rounding of these sums (a June 2025 MCX note shows stamp Rs 0.29 where 0.003% of Rs
   9,869 is 0.296).
4. A note with delivery trades and no brokerage carries Rs 0.01 of brokerage ("a minimum of Rs. 0.01 will be
   charged per contract note": same Zerodha article).

In F&O, with one order per contract per side, the two figures differ only by STT's rupee rounding and the
paisa rounding of the sums (under Rs 0.51 per contract per day). In NSE cash they differ more: the day's
netting can reclassify an order (a CNC buy sold the same day is intraday; an MIS buy kept is delivery), and
intraday STT is on the VWAP of the day's buys and sells rather than on the sell value. The engine books the
per-order figure; `contract_note(day's trades).charges.total` minus the sum of the per-fill totals is the
reconciling amount. Not modelled: exercise/assignment STT, the Rs 40 F&O brokerage on a negative balance, the
Rs 50 + GST auto square-off charge, BSE, and the women's DP concession.
"""

from engines.charges.model import Charges, GstSupply, Trade, charge_segment, default_product
from engines.charges.note import ContractNote, contract_note
from engines.charges.order import order_charges, trade_charges, value_charges
from engines.vocabulary import Product, Side

__all__ = [
    "Charges",
    "ContractNote",
    "GstSupply",
    "Product",
    "Side",
    "Trade",
    "charge_segment",
    "contract_note",
    "default_product",
    "order_charges",
    "trade_charges",
    "value_charges",
]
