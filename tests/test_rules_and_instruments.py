"""Dated market rules, the NSE calendar, and the instrument master in Kite's dump format."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest
from kiteconnect import KiteConnect

from engines.errors import ConfigError
from engines.market.calendar import NseCalendar
from engines.market.instruments import COLUMNS, InstrumentMaster, Kind, future_symbol, option_symbol
from engines.market.rules import RuleError, load_rules
from engines.market.sim import MarketSimulator, SimSession

CAL = NseCalendar()
RULES = load_rules()


def master(day: date) -> InstrumentMaster:
    return MarketSimulator(SimSession(7, day, time(9, 15), time(15, 30))).master


def test_monthly_expiry_is_the_last_tuesday_moved_back_over_holidays() -> None:
    assert CAL.monthly_expiry(2026, 12) == date(2026, 12, 29)
    assert CAL.monthly_expiry(2026, 11) == date(2026, 11, 23)  # 24 Nov is Guru Nanak Jayanti
    assert CAL.monthly_expiry(2026, 3) == date(2026, 3, 30)  # 31 Mar is Mahavir Jayanti


def test_expiries_were_on_thursday_until_28_aug_2025_then_on_tuesday() -> None:
    assert CAL.monthly_expiry(2025, 7) == date(2025, 7, 31)  # last Thursday of July 2025
    assert CAL.monthly_expiry(2025, 8) == date(2025, 8, 28)
    assert CAL.monthly_expiry(2025, 9) == date(2025, 9, 30)  # last Tuesday of September 2025
    assert CAL.weekly_expiries(date(2025, 8, 25), 3) == [
        date(2025, 8, 28),
        date(2025, 9, 2),
        date(2025, 9, 9),
    ]
    assert CAL.weekly_expiries(date(2025, 3, 10), 1) == [date(2025, 3, 13)]  # Thursday, not a holiday
    assert CAL.weekly_expiries(date(2025, 4, 7), 1) == [date(2025, 4, 9)]  # Thu 10 Apr 2025 was a holiday


def test_current_month_contract_rolls_after_expiry() -> None:
    assert CAL.monthly_expiries(date(2026, 11, 23), 1) == [date(2026, 11, 23)]
    assert CAL.monthly_expiries(date(2026, 11, 27), 2) == [date(2026, 12, 29), date(2027, 1, 26)]


def test_weekly_expiry_is_the_next_tuesday_or_the_trading_day_before_it() -> None:
    assert CAL.option_expiry("NIFTY", date(2026, 11, 27)) == date(2026, 12, 1)
    assert CAL.option_expiry("NIFTY", date(2026, 11, 9)) == date(2026, 11, 9)  # Tue 10 Nov is a holiday
    assert CAL.option_expiry("NIFTY", date(2026, 11, 10 + 1)) == date(2026, 11, 17)
    assert CAL.option_expiry("BANKNIFTY", date(2026, 11, 27)) == date(2026, 12, 29)  # monthly only


def test_trading_days_and_uncovered_years() -> None:
    assert not CAL.is_trading_day(date(2026, 11, 28))  # Saturday
    assert not CAL.is_trading_day(date(2026, 1, 15))  # added holiday
    assert CAL.is_trading_day(date(2026, 11, 27))
    assert CAL.last_trading_day(date(2026, 11, 29)) == date(2026, 11, 27)
    assert CAL.last_trading_day(date(2026, 11, 24)) == date(2026, 11, 23)
    with pytest.raises(RuleError, match="no NSE holiday list for 2027"):
        CAL.is_trading_day(date(2027, 1, 4))
    assert len(CAL.trading_days(date(2026, 1, 1), date(2026, 12, 31))) == 245


def test_lot_sizes_follow_the_contract_expiry() -> None:
    assert [RULES.lot_size(u, date(2025, 12, 30)) for u in ("NIFTY", "BANKNIFTY", "FINNIFTY")] == [75, 35, 65]
    assert [RULES.lot_size(u, date(2026, 1, 6)) for u in ("NIFTY", "BANKNIFTY", "FINNIFTY")] == [65, 30, 60]
    assert RULES.lot_size("BANKNIFTY", date(2025, 6, 26)) == 30  # before the July 2025 revision
    with pytest.raises(RuleError, match=r"lot_sizes\.csv: no row for NIFTY on 2024-06-27"):
        RULES.lot_size("NIFTY", date(2024, 6, 27))


def test_a_2025_date_gets_2025_lot_sizes_and_thursday_expiries() -> None:
    day = date(2025, 8, 12)
    m = master(day)
    nifty, bank, fin = (m.current_future(u) for u in ("NIFTY", "BANKNIFTY", "FINNIFTY"))
    assert (nifty.lot_size, bank.lot_size, fin.lot_size) == (75, 35, 65)
    assert nifty.expiry == date(2025, 8, 28) and nifty.expiry.strftime("%A") == "Thursday"
    chain = m.chain("NIFTY")
    assert chain.expiry == date(2025, 8, 14) and chain.expiry.strftime("%A") == "Thursday"
    assert {o.lot_size for o in chain.calls.values()} == {75}
    # ... while a 2026 date gets the 2026 lots and Tuesday expiries.
    later = master(date(2026, 11, 27))
    assert later.current_future("NIFTY").lot_size == 65
    assert later.chain("NIFTY").expiry == date(2026, 12, 1)


def test_in_december_2025_the_january_contract_already_has_the_new_lot() -> None:
    m = master(date(2025, 12, 15))
    futures = {f.expiry: f.lot_size for f in m if f.kind is Kind.FUT and f.underlying == "NIFTY"}
    assert futures[date(2025, 12, 30)] == 75 and futures[date(2026, 1, 27)] == 65


def test_dated_ticks_freeze_quantities_and_charge_rates() -> None:
    assert RULES.tick_size("FUT", date(2025, 4, 14), Decimal(26_000)) == 5
    assert RULES.tick_size("FUT", date(2025, 4, 15), Decimal(26_000)) == 10
    assert RULES.tick_size("FUT", date(2025, 4, 15), Decimal(59_000)) == 20
    assert RULES.tick_size("EQ", date(2026, 1, 2), Decimal("249.99")) == 1
    assert RULES.freeze_quantity("BANKNIFTY", date(2025, 11, 2)) == 900
    assert RULES.charge_rates("FUT", date(2026, 3, 31)).stt_sell_pct == Decimal("0.02")
    assert RULES.charge_rates("FUT", date(2026, 4, 1)).stt_sell_pct == Decimal("0.05")


def test_kite_symbol_formats() -> None:
    assert future_symbol("NIFTY", date(2026, 12, 29)) == "NIFTY26DECFUT"
    assert option_symbol("BANKNIFTY", date(2026, 12, 29), 5_900_000, Kind.PE, True) == "BANKNIFTY26DEC59000PE"
    assert option_symbol("NIFTY", date(2026, 12, 1), 2_600_000, Kind.CE, False) == "NIFTY26D0126000CE"
    # The weekly example from Kite's virtual contract note: 13 Jul 2023, 17900 PE.
    assert option_symbol("NIFTY", date(2023, 7, 13), 1_790_000, Kind.PE, False) == "NIFTY2371317900PE"
    assert option_symbol("NIFTY", date(2026, 10, 6), 2_500_000, Kind.CE, False) == "NIFTY26O0625000CE"


def test_the_master_resolves_universes() -> None:
    m = master(date(2026, 11, 27))
    assert m.index("NIFTY").token == 256265 and m.index("NIFTY").kind is Kind.INDEX
    future = m.current_future("BANKNIFTY")
    assert (future.symbol, future.tick, future.lot_size) == ("BANKNIFTY26DECFUT", 20, 30)
    chain = m.chain("NIFTY")
    assert len(chain.strikes) == 121 and chain.step_near(chain.strikes[60]) == 5_000
    assert m.equity("RELIANCE") is not None and m.equity("NIFTY 50") is None
    assert len({i.token for i in m}) == len(m)  # tokens are unique
    assert all(i.token & 0xFF == (2 if i.exchange == "NFO" else 1 if i.segment == "NSE" else 9) for i in m)


def test_the_master_round_trips_through_kites_csv_and_the_official_parser_reads_it() -> None:
    m = master(date(2026, 11, 27))
    text = m.to_csv()
    assert text.splitlines()[0] == ",".join(COLUMNS)
    again = InstrumentMaster.from_csv(text, m.day, "test")
    assert list(again) == list(m)
    parsed = KiteConnect("key")._parse_instruments(text)  # the client's own CSV reader
    by_token = {row["instrument_token"]: row for row in parsed}
    future = by_token[m.current_future("NIFTY").token]
    assert (future["tradingsymbol"], future["lot_size"], future["tick_size"]) == ("NIFTY26DECFUT", 65, 0.1)
    assert future["expiry"] == date(2026, 12, 29)


def test_the_real_dumps_quirks_are_read() -> None:
    text = "\n".join(
        [
            ",".join(COLUMNS),
            '738561,2885,RELIANCE,"RELIANCE INDUSTRIES",0,,0,0.05,1,EQ,NSE,NSE',
            '256265,1001,NIFTY 50,"NIFTY 50",0,,0,0,0,EQ,INDICES,NSE',
            '13238786,51714,NIFTY26SEPFUT,"NIFTY",0,2026-09-29,0,0.1,65,FUT,NFO-FUT,NFO',
            "10967554,42842,NIFTY2692223350CE,,0,2026-09-22,23350,0.05,65,CE,NFO-OPT,NFO",  # no name
            "12073986,47164,BANKNIFTY18JAN23500CE,,2528.4,2018-01-25,23500.0,0.05,40,CE,NFO-OPT,NFO",
            "244332292,954423,RCL14JUL16B,RCL-NIFTY-14-1-19-PVT,0.0,,0.0,0.01,10,EQ,BSE,BSE",  # BSE: skipped
            "",
        ]
    )
    m = InstrumentMaster.from_csv(text, date(2026, 9, 21), "dump.csv")
    assert len(m) == 5
    option = m.find("NFO", "NIFTY2692223350CE")
    assert option is not None
    assert (option.underlying, option.strike, option.kind) == ("NIFTY", 2_335_000, Kind.CE)
    assert m.index("NIFTY").underlying == "NIFTY" and m.current_future("NIFTY").tick == 10
    assert m.chain("NIFTY").strikes == (2_335_000,)


def test_a_malformed_dump_names_the_file_and_line() -> None:
    with pytest.raises(ConfigError, match=r"dump.csv:1: header"):
        InstrumentMaster.from_csv("instrument_token, tradingsymbol\n", date(2026, 9, 21), "dump.csv")
    bad = ",".join(COLUMNS) + "\n738561,2885,RELIANCE,X,0,,0,oops,1,EQ,NSE,NSE\n"
    with pytest.raises(ConfigError, match=r"dump.csv:2: .*RELIANCE"):
        InstrumentMaster.from_csv(bad, date(2026, 9, 21), "dump.csv")
