"""Zerodha's charges, pinned to the paisa against figures worked out by hand from the published rates.

Every expected figure below is a literal with its arithmetic beside it, from the rates of
engines/market/rules/charge_rates.csv (sources in its header): brokerage 0.03% capped at Rs 20 (intraday,
futures), flat Rs 20 (options), 0 (delivery); STT 0.025% intraday sell, 0.1% delivery buy and sell, futures
sell 0.02% -> 0.05% and options premium sell 0.1% -> 0.15% from 1 Apr 2026; exchange incl. IPFT 0.00307%
(cash), 0.00183% (futures), 0.03553% (options premium); SEBI Rs 10/crore = 0.0001%; stamp on buys 0.003%
(intraday), 0.015% (delivery), 0.002% (futures), 0.003% (options); GST 18% of brokerage + exchange + SEBI; DP
Rs 13 + 18%. Per order every item rounds to the paisa, half up; on the contract note STT rounds per scrip to
the rupee and the other items per segment to the paisa.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

import engines.charges
from engines.charges import (
    Charges,
    GstSupply,
    Product,
    Side,
    Trade,
    contract_note,
    order_charges,
    trade_charges,
)
from engines.charges.cli import main
from engines.market.instruments import Instrument, Kind
from engines.market.rules import RuleError
from tests.helpers import ROOT

MAR31 = date(2026, 3, 31)  # last day of the old F&O STT
APR01 = date(2026, 4, 1)  # Budget 2026 STT from this day
FUT = "NIFTY26APRFUT"
CE = "NIFTY26APR23500CE"


def trade(
    kind: Kind, symbol: str, side: str, quantity: int, price: int, product: str, order_id: str = ""
) -> Trade:
    return Trade(kind, symbol, Side(side), quantity, price, Product(product), order_id)


def items(c: Charges) -> tuple[int, int, int, int, int, int, int]:
    """(brokerage, stt, exchange, sebi, stamp, gst, note_total) in paise."""
    return (c.brokerage, c.stt, c.exchange, c.sebi, c.stamp, c.gst, c.note_total)


# --- one order: the virtual contract note and the engine's per-fill figure --------------------------------

PER_ORDER = [
    pytest.param(
        # Value 10 x 1500.50 = 15,005.00. Brokerage min(15005 x 0.03% = 4.5015, 20) -> 4.50; STT 0 on a buy;
        # exchange 15005 x 0.00307% = 0.4606535 -> 0.46; SEBI 15005 x 0.0001% = 0.015005 -> 0.02;
        # stamp 15005 x 0.003% = 0.45015 -> 0.45; GST 18% x (4.50 + 0.46 + 0.02 = 4.98) = 0.8964 -> 0.90.
        trade(Kind.EQ, "RELIANCE", "BUY", 10, 150_050, "MIS"),
        APR01,
        (450, 0, 46, 2, 45, 90, 633),
        id="eq-intraday-buy-percentage-brokerage",
    ),
    pytest.param(
        # Value 66 x 1510 = 99,660. Brokerage min(29.898, 20) = 20; STT 0.025% = 24.915 -> 24.92;
        # exchange 99660 x 0.00307% = 3.059562 -> 3.06; SEBI 0.09966 -> 0.10; no stamp on a sell;
        # GST 18% x (20 + 3.06 + 0.10 = 23.16) = 4.1688 -> 4.17.
        trade(Kind.EQ, "RELIANCE", "SELL", 66, 151_000, "MIS"),
        APR01,
        (2000, 2492, 306, 10, 0, 417, 5225),
        id="eq-intraday-sell-capped-brokerage",
    ),
    pytest.param(
        # Value 25 x 1620.40 = 40,510. Brokerage 0 (delivery); STT 0.1% = 40.51; exchange 40510 x 0.00307% =
        # 1.243657 -> 1.24; SEBI 0.04051 -> 0.04; stamp 0.015% = 6.0765 -> 6.08;
        # GST 18% x 1.28 = 0.2304 -> 0.23.
        trade(Kind.EQ, "INFY", "BUY", 25, 162_040, "CNC"),
        APR01,
        (0, 4051, 124, 4, 608, 23, 4810),
        id="eq-delivery-buy",
    ),
    pytest.param(
        # Value 25 x 1650 = 41,250. STT 0.1% = 41.25; exchange 41250 x 0.00307% = 1.266375 -> 1.27;
        # SEBI 0.04125 -> 0.04; no stamp; GST 18% x (0 + 1.27 + 0.04 = 1.31) = 0.2358 -> 0.24.
        trade(Kind.EQ, "INFY", "SELL", 25, 165_000, "CNC"),
        APR01,
        (0, 4125, 127, 4, 0, 24, 4280),
        id="eq-delivery-sell",
    ),
    pytest.param(
        # Value 65 x 23500 = 15,27,500. Brokerage min(458.25, 20) = 20; STT 0.02% = 305.50;
        # exchange 1527500 x 0.00183% = 27.95325 -> 27.95; SEBI 1.5275 -> 1.53;
        # GST 18% x (20 + 27.95 + 1.53 = 49.48) = 8.9064 -> 8.91.
        trade(Kind.FUT, FUT, "SELL", 65, 2_350_000, "NRML"),
        MAR31,
        (2000, 30550, 2795, 153, 0, 891, 36389),
        id="futures-sell-31-mar-2026-stt-0.02",
    ),
    pytest.param(
        # The same sell a day later: STT 0.05% of 15,27,500 = 763.75; everything else as above.
        trade(Kind.FUT, FUT, "SELL", 65, 2_350_000, "NRML"),
        APR01,
        (2000, 76375, 2795, 153, 0, 891, 82214),
        id="futures-sell-1-apr-2026-stt-0.05",
    ),
    pytest.param(
        # A buy pays no STT before or after the change: stamp 0.002% of 15,27,500 = 30.55; brokerage,
        # exchange, SEBI and GST as for the sell.
        trade(Kind.FUT, FUT, "BUY", 65, 2_350_000, "MIS"),
        MAR31,
        (2000, 0, 2795, 153, 3055, 891, 8894),
        id="futures-buy-31-mar-2026",
    ),
    pytest.param(
        trade(Kind.FUT, FUT, "BUY", 65, 2_350_000, "NRML"),
        APR01,
        (2000, 0, 2795, 153, 3055, 891, 8894),
        id="futures-buy-1-apr-2026-unchanged",
    ),
    pytest.param(
        # Premium 65 x 124.40 = 8,086. Brokerage flat 20; exchange 8086 x 0.03553% = 2.8729558 -> 2.87;
        # SEBI 0.008086 -> 0.01; stamp 0.003% = 0.24258 -> 0.24; GST 18% x 22.88 = 4.1184 -> 4.12.
        trade(Kind.CE, CE, "BUY", 65, 12_440, "NRML"),
        MAR31,
        (2000, 0, 287, 1, 24, 412, 2724),
        id="option-buy-31-mar-2026",
    ),
    pytest.param(
        # Premium 65 x 130 = 8,450. STT 0.1% = 8.45; exchange 8450 x 0.03553% = 3.002285 -> 3.00;
        # SEBI 0.00845 -> 0.01; GST 18% x (20 + 3.00 + 0.01 = 23.01) = 4.1418 -> 4.14.
        trade(Kind.CE, CE, "SELL", 65, 13_000, "NRML"),
        MAR31,
        (2000, 845, 300, 1, 0, 414, 3560),
        id="option-sell-31-mar-2026-stt-0.1",
    ),
    pytest.param(
        # The same sell a day later: STT 0.15% of 8,450 = 12.675 -> 12.68.
        trade(Kind.PE, "NIFTY26APR23500PE", "SELL", 65, 13_000, "MIS"),
        APR01,
        (2000, 1268, 300, 1, 0, 414, 3983),
        id="option-sell-1-apr-2026-stt-0.15",
    ),
]


@pytest.mark.parametrize(("order", "day", "expected"), PER_ORDER)
def test_one_order_is_charged_to_the_paisa(order: Trade, day: date, expected: tuple[int, ...]) -> None:
    assert items(trade_charges(order, day)) == expected


def test_a_client_in_karnataka_pays_cgst_and_sgst_each_rounded_on_its_own_line() -> None:
    # The intraday sell above: GST base 23.16; CGST = SGST = 9% x 23.16 = 2.0844 -> 2.08 each, 4.16 in all
    # (IGST was 4.17). Total 20 + 24.92 + 3.06 + 0.10 + 2.08 + 2.08 = 52.24.
    c = trade_charges(
        trade(Kind.EQ, "RELIANCE", "SELL", 66, 151_000, "MIS"), APR01, supply=GstSupply.INTRASTATE
    )
    assert (c.igst, c.cgst, c.sgst, c.note_total) == (0, 208, 208, 5224)


def test_a_delivery_sell_carries_the_dp_charge_once_per_scrip_per_day() -> None:
    sell = trade(Kind.EQ, "INFY", "SELL", 25, 165_000, "CNC")
    first = trade_charges(sell, APR01)
    later = trade_charges(sell, APR01, dp_due=False)
    # DP Rs 13 + 18% GST (2.34) = 15.34, on the ledger: in total, never in the contract-note figure.
    assert (first.dp, first.note_total, first.total) == (1534, 4280, 4280 + 1534)
    assert (later.dp, later.total) == (0, 4280)
    assert trade_charges(trade(Kind.EQ, "INFY", "SELL", 25, 165_000, "MIS"), APR01).dp == 0


def test_the_engine_api_charges_an_instrument_intraday_by_default() -> None:
    reliance = Instrument(3, "RELIANCE", "NSE", "NSE", Kind.EQ, "RELIANCE INDUSTRIES", 5, 1)
    assert items(order_charges(reliance, Side.SELL, 66, 151_000, APR01)) == (
        2000,
        2492,
        306,
        10,
        0,
        417,
        5225,
    )
    delivery = order_charges(reliance, Side.BUY, 10, 150_050, APR01, None, Product.CNC)
    # 15,005 at delivery rates: STT 0.1% = 15.005 -> 15.01; stamp 0.015% = 2.25075 -> 2.25; no brokerage.
    assert (delivery.brokerage, delivery.stt, delivery.stamp) == (0, 1501, 225)


def test_an_index_and_a_product_the_instrument_cannot_carry_are_refused() -> None:
    index = Instrument(256265, "NIFTY 50", "NSE", "INDICES", Kind.INDEX, "NIFTY", 5, 0)
    with pytest.raises(ValueError, match="not tradable"):
        order_charges(index, Side.BUY, 1, 100, APR01)
    with pytest.raises(ValueError, match="NRML is not for NSE equity"):
        trade(Kind.EQ, "INFY", "BUY", 1, 100, "NRML")
    with pytest.raises(ValueError, match="CNC is not for NFO FUT"):
        trade(Kind.FUT, FUT, "BUY", 65, 100, "CNC")


def test_the_virtual_contract_note_block_has_kites_keys_and_rupee_numbers() -> None:
    block = trade_charges(trade(Kind.EQ, "RELIANCE", "BUY", 10, 150_050, "MIS"), APR01).to_contract_note()
    assert block == {
        "transaction_tax": 0,
        "transaction_tax_type": "stt",
        "exchange_turnover_charge": 0.46,
        "sebi_turnover_charge": 0.02,
        "brokerage": 4.5,
        "stamp_duty": 0.45,
        "gst": {"igst": 0.9, "cgst": 0, "sgst": 0, "total": 0.9},
        "total": 6.33,
    }
    assert (
        json.dumps(block["brokerage"]) == "4.5"
        and json.dumps(Charges(brokerage=2000).to_contract_note()["brokerage"]) == "20"
    )


# --- the day's contract note ---------------------------------------------------------------------------


def note_items(trades: list[Trade], day: date, segment: str) -> tuple[int, ...]:
    return items(contract_note(trades, day).segments[segment])


def test_options_round_trip_stt_is_rounded_to_the_rupee_per_contract() -> None:
    trades = [trade(Kind.CE, CE, "BUY", 65, 12_440, "NRML"), trade(Kind.CE, CE, "SELL", 65, 13_000, "NRML")]
    # STT 0.15% x 8,450 = 12.675 -> Rs 13 (per order it was 12.68). Brokerage 20 + 20; exchange
    # (8086 + 8450 = 16,536) x 0.03553% = 5.8752408 -> 5.88; SEBI 0.016536 -> 0.02; stamp 0.003% x 8086 =
    # 0.24258 -> 0.24; GST 18% x (40 + 5.88 + 0.02 = 45.90) = 8.262 -> 8.26.
    assert note_items(trades, APR01, "NFO") == (4000, 1300, 588, 2, 24, 826, 6740)


@pytest.mark.parametrize(
    ("day", "stt", "total"),
    [
        # STT on the sell, 65 x 23560.50 = 15,31,432.50: 0.02% = 306.2865 -> Rs 306.
        pytest.param(MAR31, 30600, 45342, id="31-mar-2026"),
        # 0.05% = 765.71625 -> Rs 766.
        pytest.param(APR01, 76600, 91342, id="1-apr-2026"),
    ],
)
def test_futures_round_trip_on_both_sides_of_the_stt_change(day: date, stt: int, total: int) -> None:
    trades = [
        trade(Kind.FUT, FUT, "BUY", 65, 2_350_000, "NRML"),
        trade(Kind.FUT, FUT, "SELL", 65, 2_356_050, "NRML"),
    ]
    # Turnover 15,27,500 + 15,31,432.50 = 30,58,932.50: exchange 0.00183% = 55.97846475 -> 55.98; SEBI
    # 3.0589325 -> 3.06; stamp 0.002% x 15,27,500 = 30.55; brokerage 20 + 20;
    # GST 18% x (40 + 55.98 + 3.06 = 99.04) = 17.8272 -> 17.83.
    # Total 40 + STT + 55.98 + 3.06 + 30.55 + 17.83.
    assert note_items(trades, day, "NFO") == (4000, stt, 5598, 306, 3055, 1783, total)


def test_intraday_stock_stt_is_on_the_days_vwap_not_the_sell_value() -> None:
    trades = [
        trade(Kind.EQ, "SBIN", "BUY", 500, 100_000, "MIS"),
        trade(Kind.EQ, "SBIN", "SELL", 500, 102_500, "MIS"),
    ]
    # VWAP (5,00,000 + 5,12,500) / 1000 = 1012.50; STT 500 x 1012.50 x 0.025% = 126.5625 -> Rs 127 (the sell
    # value would give 128.125). Brokerage 20 + 20 (both capped); exchange 10,12,500 x 0.00307% = 31.08375 ->
    # 31.08; SEBI 1.0125 -> 1.01; stamp 0.003% x 5,00,000 = 15.00; GST 18% x 72.09 = 12.9762 -> 12.98.
    assert note_items(trades, APR01, "NSE") == (4000, 12700, 3108, 101, 1500, 1298, 22707)


def test_a_cnc_buy_sold_the_same_day_is_charged_as_intraday() -> None:
    trades = [
        trade(Kind.EQ, "INFY", "BUY", 20, 160_000, "CNC"),
        trade(Kind.EQ, "INFY", "SELL", 20, 161_000, "CNC"),
    ]
    # VWAP 64,200 / 40 = 1605; STT 20 x 1605 x 0.025% = 8.025 -> Rs 8 (not 0.1% both ways); intraday brokerage
    # 32000 x 0.03% = 9.60 + 32200 x 0.03% = 9.66 = 19.26; exchange 64,200 x 0.00307% = 1.97094 -> 1.97; SEBI
    # 0.0642 -> 0.06; stamp 0.003% (not 0.015%) x 32,000 = 0.96; GST 18% x 21.29 = 3.8322 -> 3.83. No DP.
    note = contract_note(trades, MAR31)
    assert items(note.segments["NSE"]) == (1926, 800, 197, 6, 96, 383, 3408)
    assert note.dp == 0


def test_a_partial_square_off_splits_delivery_from_intraday() -> None:
    trades = [
        trade(Kind.EQ, "INFY", "BUY", 30, 160_000, "CNC"),
        trade(Kind.EQ, "INFY", "SELL", 10, 161_000, "CNC"),
    ]
    # VWAP (48,000 + 16,100) / 40 = 1602.50; 10 matched, 20 delivered in. STT 10 x 1602.50 x 0.025% =
    # 4.00625 + 20 x 1602.50 x 0.1% = 32.05 -> 36.05625 -> Rs 36. Stamp 16,000 x 0.003% = 0.48 +
    # 32,000 x 0.015% = 4.80 = 5.28. Intraday brokerage on both CNC orders: 14.40 + 4.83 = 19.23;
    # exchange 64,100 x 0.00307% = 1.96787 -> 1.97; SEBI 0.0641 -> 0.06; GST 18% x 21.26 = 3.8268 -> 3.83.
    assert note_items(trades, APR01, "NSE") == (1923, 3600, 197, 6, 528, 383, 6637)


def test_delivery_sells_pay_dp_per_scrip_and_the_note_minimum_brokerage() -> None:
    trades = [
        trade(Kind.EQ, "INFY", "SELL", 10, 165_000, "CNC"),
        trade(Kind.EQ, "INFY", "SELL", 15, 165_200, "CNC"),
        trade(Kind.EQ, "HDFCBANK", "SELL", 5, 180_000, "CNC"),
    ]
    # INFY: 16,500 + 24,780 = 41,280 over 25 shares, VWAP 1651.20, STT 0.1% = 41.28 -> Rs 41. HDFCBANK: 9,000
    # x 0.1% = Rs 9. Brokerage 0 -> the Rs 0.01 minimum of a delivery note. Exchange 50,280 x 0.00307% =
    # 1.543596 -> 1.54; SEBI 0.05028 -> 0.05; GST 18% x (0.01 + 1.54 + 0.05 = 1.60) = 0.288 -> 0.29.
    # DP: two scrips x (13 + 2.34) = 30.68, on the ledger.
    note = contract_note(trades, APR01)
    assert items(note.segments["NSE"]) == (1, 5000, 154, 5, 0, 29, 5189)
    assert (note.dp, note.charges.total) == (3068, 5189 + 3068)


def test_brokerage_is_per_executed_order_not_per_fill() -> None:
    trades = [
        trade(Kind.EQ, "RELIANCE", "BUY", 30, 140_000, "MIS", "A"),
        trade(Kind.EQ, "RELIANCE", "BUY", 30, 140_040, "MIS", "A"),
        trade(Kind.EQ, "RELIANCE", "SELL", 60, 140_500, "MIS", "B"),
    ]
    # Order A is worth 42,000 + 42,012 = 84,012 -> 0.03% = 25.2036, capped at 20 (two fills charged apart
    # would pay 12.60 + 12.6036); order B 84,300 -> 20. VWAP 1,68,312 / 120 = 1402.60; STT 60 x 1402.60 x
    # 0.025% = 21.039 -> Rs 21; exchange 1,68,312 x 0.00307% = 5.1671784 -> 5.17; SEBI 0.168312 -> 0.17; stamp
    # 0.003% x 84,012 = 2.52036 -> 2.52; GST 18% x 45.34 = 8.1612 -> 8.16.
    assert note_items(trades, APR01, "NSE") == (4000, 2100, 517, 17, 252, 816, 7702)


def test_the_contract_note_json_totals_the_segments_without_dp() -> None:
    trades = [
        trade(Kind.CE, CE, "BUY", 65, 12_440, "NRML"),
        trade(Kind.EQ, "INFY", "SELL", 25, 165_000, "CNC"),
    ]
    out = contract_note(trades, APR01).to_json()
    # NSE: STT 41.25 -> Rs 41; exchange 1.27; SEBI 0.04; brokerage 0 (no Rs 0.01 minimum: the note already
    # carries the option's brokerage); GST 18% x 1.31 = 0.2358 -> 0.24; 42.55. NFO: the option buy alone,
    # 27.24 as per order. DP 15.34 apart.
    segments = out["segments"]
    assert isinstance(segments, dict)
    assert (segments["NSE"]["total"], segments["NSE"]["brokerage"], segments["NFO"]["total"]) == (
        42.55,
        0,
        27.24,
    )
    assert (out["total"], out["dp_charges"], out["gst"]) == (69.79, 15.34, "igst")


def test_a_date_before_the_first_rates_is_refused_with_the_fix() -> None:
    with pytest.raises(
        RuleError, match=r"charge_rates\.csv: no row for EQ_INTRADAY on 2024-09-30 .* add a row"
    ):
        trade_charges(trade(Kind.EQ, "INFY", "BUY", 1, 100, "MIS"), date(2024, 9, 30))


# --- the command -------------------------------------------------------------------------------------------

ORDERS = ["BUY:NSE:RELIANCE:10@1500.50", "sell:nfo:nifty26aprfut:65@23500:MIS", "SELL:NSE:INFY:25@1650:CNC"]


def expected_data() -> list[dict[str, object]]:
    """The three orders above on 1 Apr 2026, from the hand-worked cases (rupees)."""
    return [
        {
            "transaction_type": "BUY",
            "tradingsymbol": "RELIANCE",
            "exchange": "NSE",
            "variety": "regular",
            "product": "MIS",
            "order_type": "MARKET",
            "quantity": 10,
            "price": 1500.5,
            "charges": {
                "transaction_tax": 0,
                "transaction_tax_type": "stt",
                "exchange_turnover_charge": 0.46,
                "sebi_turnover_charge": 0.02,
                "brokerage": 4.5,
                "stamp_duty": 0.45,
                "gst": {"igst": 0.9, "cgst": 0, "sgst": 0, "total": 0.9},
                "total": 6.33,
            },
        },
        {
            "transaction_type": "SELL",
            "tradingsymbol": "NIFTY26APRFUT",
            "exchange": "NFO",
            "variety": "regular",
            "product": "MIS",
            "order_type": "MARKET",
            "quantity": 65,
            "price": 23500,
            "charges": {
                "transaction_tax": 763.75,
                "transaction_tax_type": "stt",
                "exchange_turnover_charge": 27.95,
                "sebi_turnover_charge": 1.53,
                "brokerage": 20,
                "stamp_duty": 0,
                "gst": {"igst": 8.91, "cgst": 0, "sgst": 0, "total": 8.91},
                "total": 822.14,
            },
        },
        {
            "transaction_type": "SELL",
            "tradingsymbol": "INFY",
            "exchange": "NSE",
            "variety": "regular",
            "product": "CNC",
            "order_type": "MARKET",
            "quantity": 25,
            "price": 1650,
            "charges": {
                "transaction_tax": 41.25,
                "transaction_tax_type": "stt",
                "exchange_turnover_charge": 1.27,
                "sebi_turnover_charge": 0.04,
                "brokerage": 0,
                "stamp_duty": 0,
                "gst": {"igst": 0.24, "cgst": 0, "sgst": 0, "total": 0.24},
                "total": 42.8,
            },
        },
    ]


def test_the_command_prints_the_virtual_contract_note_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ORDERS, "--date", "2026-04-01"]) == 0
    assert json.loads(capsys.readouterr().out) == expected_data()


def test_the_command_runs_as_a_module() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "engines.charges", *ORDERS, "--date", "2026-04-01"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == expected_data()


def test_the_command_prints_the_contract_note_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "SELL:NSE:INFY:10@1650:CNC",
                "SELL:NSE:INFY:15@1652:CNC",
                "--date",
                "2026-04-01",
                "--contract-note",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    # One scrip: 41,280 at 0.1% = 41.28 -> Rs 41; exchange 41,280 x 0.00307% = 1.267296 -> 1.27; SEBI 0.04128
    # -> 0.04; brokerage 0.01 (delivery note); GST 18% x 1.32 = 0.2376 -> 0.24; total 42.56. DP once: 15.34.
    assert out["contract_note"]["segments"]["NSE"]["total"] == 42.56
    assert out["contract_note"]["dp_charges"] == 15.34
    assert [o["charges"]["transaction_tax"] for o in out["orders"]] == [
        16.5,
        24.78,
    ]  # 0.1% of 16,500 and 24,780


def test_the_command_splits_gst_for_a_karnataka_client(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["SELL:NSE:RELIANCE:66@1510", "--date", "2026-04-01", "--gst", "cgst-sgst"]) == 0
    gst = json.loads(capsys.readouterr().out)[0]["charges"]["gst"]
    assert gst == {"igst": 0, "cgst": 2.08, "sgst": 2.08, "total": 4.16}


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["BUY:NSE:RELIANCE:10"], ["'BUY:NSE:RELIANCE:10'", "QUANTITY@PRICE", "10@1500.50"]),
        (["BUY:NSE:RELIANCE"], ["expected SIDE:EXCHANGE:TRADINGSYMBOL:QUANTITY@PRICE[:PRODUCT]"]),
        (["HOLD:NSE:RELIANCE:10@1500"], ["side 'HOLD' must be BUY or SELL"]),
        (["BUY:BSE:RELIANCE:10@1500"], ["exchange 'BSE' is not supported", "NSE (cash) or NFO (F&O)"]),
        (["BUY:NFO:NIFTY26APR:65@10"], ["'NIFTY26APR' must end in FUT, CE or PE"]),
        (["BUY:NSE:RELIANCE:0@1500"], ["quantity '0' must be a whole number of units above 0"]),
        (["BUY:NSE:RELIANCE:1.5@1500"], ["quantity '1.5'"]),
        (["BUY:NSE:RELIANCE:10@15.005"], ["price '15.005'", "at most 2 decimals", "1500.50"]),
        (["BUY:NSE:RELIANCE:10@-5"], ["price '-5' must be rupees above 0"]),
        (["BUY:NSE:RELIANCE:10@abc"], ["price 'ABC'"]),
        (
            ["BUY:NSE:RELIANCE:10@1500:NRML"],
            ["product 'NRML' is not for NSE cash", "MIS or CNC", "default MIS"],
        ),
        (
            ["BUY:NFO:NIFTY26APRFUT:65@1500:CNC"],
            ["product 'CNC' is not for NFO", "MIS or NRML", "default NRML"],
        ),
        (
            ["BUY:NSE:RELIANCE:10@1500", "--date", "2026-02-30"],
            ["--date", "'2026-02-30' is not a date", "YYYY-MM-DD"],
        ),
        (["BUY:NSE:RELIANCE:10@1500", "--gst", "sgst"], ["--gst", "invalid choice: 'sgst'"]),
        (
            ["BUY:NSE:RELIANCE:10@1500", "--date", "2024-09-30"],
            ["--date 2024-09-30", "charge_rates.csv", "add a row"],
        ),
        ([], ["ORDER"]),
    ],
)
def test_a_bad_command_line_exits_2_naming_the_value_and_the_fix(
    argv: list[str], says: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    for fragment in says:
        assert fragment in captured.err


def test_help_states_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for fragment in (
        "default: today in IST",
        "default: igst",
        "MIS on NSE and NRML on NFO",
        "BUY:NSE:RELIANCE:10@1500.50:CNC",
    ):
        assert fragment in text


def test_the_public_surface() -> None:
    assert engines.charges.__all__ == [
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
