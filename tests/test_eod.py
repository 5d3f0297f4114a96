"""The end-of-day job: exact figures from hand-built artifacts (every expected figure worked by hand in
the comments), the inputs' validation, the command line and the docs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from engines.artifacts.layout import ArtifactPaths
from session.eod.__main__ import main
from session.eod.analytics import drawdown, equity_curve, reason_prefix, trades
from session.eod.inputs import ArtifactError, fills_from_journal, fills_from_orders, load_inputs, read_orders
from session.eod.report import ACCOUNT, analyse
from tests.eod_fixtures import (
    event,
    fill_event,
    order,
    position,
    write_checkpoint,
    write_journal,
    write_orders,
    write_session,
)

REPO = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 27)

# fno's day, at 10:<seq> each: a long that a risk exit closes with a win; a short that flips long through
# zero (charges 2.71 split 30:60 -> 0.90 + 1.81) and is squared off; two margin rejections; a long still
# open at stop; a limit order cancelled at the close.
FNO_DAY = [
    order(
        "fno", 2, "NIFTY", "BUY", 50, price="100.00", charges="1.00", touch="99.90"
    ),  # 5.00 above the touch
    order("fno", 4, "NIFTY", "SELL", 50, "risk_exit", "110.00", "1.20", "500.00", touch="110.00"),
    order(
        "fno", 6, "BANK", "SELL", 30, price="200.00", charges="0.90", touch="200.10"
    ),  # 3.00 below the touch
    order("fno", 8, "BANK", "BUY", 90, "exit", "205.00", "2.71", "-150.00", touch="205.00"),
    order("fno", 10, "BANK", "SELL", 60, "square_off", "206.00", "1.85", "60.00", touch="206.00"),
    order("fno", 12, "NIFTY", "BUY", 50, status="REJECTED", reason="insufficient margin: required 1000.00"),
    order("fno", 14, "BANK", "BUY", 30, status="REJECTED", reason="insufficient margin: required 2000.00"),
    order("fno", 16, "FIN", "BUY", 10, price="300.00", charges="0.50"),  # no touch: not measured
    order(
        "fno",
        18,
        "FIN",
        "BUY",
        10,
        price="290.00",
        status="CANCELLED",
        reason="the close; nothing filled",
        order_type="LIMIT",
    ),
]
FNO_CHECKPOINT: dict[str, Any] = {
    "status": "stopped",
    "realised_paise": 41000,  # 500 - 150 + 60
    "charges_paise": 816,  # 1.00 + 1.20 + 0.90 + 2.71 + 1.85 + 0.50
    "positions": [
        position("NIFTY", 0, 0, 11000),
        position("BANK", 0, 0, 20600),
        position("FIN", 10, 300000, 31000),  # 10 x 310.00 - 3000.00 = 100.00
    ],
}


@pytest.fixture
def fno_day(tmp_path: Path) -> Path:
    yesterday = order("fno", 1, "NIFTY", "BUY", 50, realised="999.00", ts="2026-11-26T10:00:00.000+05:30")
    write_orders(tmp_path, [yesterday, *FNO_DAY])
    write_checkpoint(tmp_path, "fno", **FNO_CHECKPOINT)
    return tmp_path


def report_of(root: Path) -> dict[str, Any]:
    return analyse(DAY, load_inputs(ArtifactPaths(root), DAY)).report


def todays_fills(root: Path) -> Any:
    orders = read_orders(ArtifactPaths(root).orders)
    return fills_from_orders(orders[orders["ts_ist"].str.startswith(DAY.isoformat())])


def run_cli(root: Path, *extra: str) -> int:
    return main(["--date", DAY.isoformat(), "--artifacts", str(root), "--no-backtest", *extra])


# --- the figures -------------------------------------------------------------------------------------


def test_engine_figures_are_exact(fno_day: Path) -> None:
    fno = report_of(fno_day)["engines"]["fno"]
    assert fno["status"] == "stopped"
    assert (fno["realised_pnl_rupees"], fno["charges_rupees"]) == ("410.00", "8.16")
    assert (fno["unrealised_pnl_rupees"], fno["net_pnl_rupees"]) == ("100.00", "501.84")
    assert fno["charges_itemised"]["brokerage_rupees"] == "8.16"
    assert fno["charges_itemised"]["stt_rupees"] == "0.00"
    assert fno["turnover_rupees"] == "50310.00"  # 5000 + 5500 + 6000 + 18450 + 12360 + 3000
    counts = ("orders_placed", "orders_filled", "orders_partly_filled", "orders_cancelled", "orders_rejected")
    assert [fno[k] for k in counts] == [9, 6, 0, 1, 2]
    assert fno["rejection_reasons"] == {"insufficient margin": 2}
    assert fno["cancellation_reasons"] == {"the close": 1}
    assert fno["strategies"] == ["ema_cross"]


def test_flip_through_zero_closes_one_trade_and_opens_the_next(fno_day: Path) -> None:
    table, _ = trades(todays_fills(fno_day))
    closed = table[table["closed"]]
    # NIFTY: 500 - 1.00 - 1.20; BANK: -150 - 0.90 - 0.90 (its share of 2.71), then -1.81 + 60 - 1.85.
    assert sorted(closed["pnl_paise"]) == [-15180, 5634, 49780]
    assert table[~table["closed"]]["charges_paise"].tolist() == [50]  # FIN, open
    assert int(table["charges_paise"].sum()) == 816  # the split loses no paisa


def test_trade_statistics(fno_day: Path) -> None:
    fno = report_of(fno_day)["engines"]["fno"]
    assert (fno["trades"], fno["trades_open"], fno["wins"], fno["losses"]) == (3, 1, 2, 1)
    assert fno["win_rate"] == 0.6667
    assert fno["average_win_rupees"] == "277.07"  # (497.80 + 56.34) / 2
    assert fno["average_loss_rupees"] == "-151.80"
    assert fno["profit_factor"] == 3.6505  # 554.14 / 151.80 = 3.65046...


def test_slippage_against_the_touch(fno_day: Path) -> None:
    fno = report_of(fno_day)["engines"]["fno"]
    assert (fno["slippage_rupees"], fno["slippage_orders"]) == ("8.00", 5)
    # 800 paise over a touch value of 4995 + 5500 + 6003 + 18450 + 12360 = 47308.00 rupees
    assert fno["slippage_bps"] == 1.69


def test_equity_curve_drawdown_and_exposure(fno_day: Path) -> None:
    analysis = analyse(DAY, load_inputs(ArtifactPaths(fno_day), DAY))
    curve = analysis.curves["fno"]
    # After each fill: -1.00; 500 - 2.20; 497.80 - 0.90; BANK 60 long marked at 205: 500 - 150 - 5.81;
    # flat: 410 - 7.66; FIN bought at its mark: 410 - 8.16; at stop the checkpoint's 501.84.
    assert curve["equity_paise"].tolist() == [-100, 49780, 49690, 34419, 40234, 40184, 50184]
    assert curve["ts_ist"].iloc[-1] == "2026-11-27T15:29:59.000+05:30"
    fno = analysis.report["engines"]["fno"]
    assert fno["max_drawdown_rupees"] == "153.61"  # 497.80 -> 344.19
    assert (fno["max_drawdown_peak_ist"][11:16], fno["max_drawdown_at_ist"][11:16]) == ("10:04", "10:08")
    assert (fno["max_exposure_rupees"], fno["max_exposure_at_ist"][11:16]) == (
        "12300.00",
        "10:08",
    )  # 60 x 205
    assert fno["equity_curve"][-1] == {"ts_ist": "2026-11-27T15:29:59.000+05:30", "net_pnl_rupees": "501.84"}


def test_drawdown_counts_the_start_as_a_peak() -> None:
    import pandas as pd

    curve = pd.DataFrame({"ts_ist": ["a", "b", "c"], "equity_paise": [-500, -200, -900], "exposure_paise": 0})
    assert (drawdown(curve).amount, drawdown(curve).trough_ist) == (900, "c")
    rising = curve.assign(equity_paise=[1, 2, 3])
    assert drawdown(rising).amount == 0 and drawdown(rising).trough_ist is None


def test_groups_add_up_and_engine_orders_count_for_the_strategy_they_closed(fno_day: Path) -> None:
    report = report_of(fno_day)
    (strategy,) = report["by_strategy"]
    assert (strategy["strategy"], strategy["net_pnl_rupees"], strategy["orders_placed"]) == (
        "ema_cross",
        "501.84",
        9,  # the risk exit and the square-off included
    )
    symbols = {row["symbol"]: row for row in report["by_symbol"]}
    assert {s: r["net_pnl_rupees"] for s, r in symbols.items()} == {
        "NIFTY": "497.80",
        "BANK": "-95.46",  # -90.00 realised - 5.46 charges
        "FIN": "99.50",  # 100.00 unrealised - 0.50
    }
    assert symbols["FIN"]["trades_open"] == 1


def test_the_total_adds_the_engines(fno_day: Path) -> None:
    write_orders(
        fno_day,
        [
            *FNO_DAY,
            order("equity", 1, "INFY", "BUY", 10, price="1500.00", charges="2.00"),
            order("equity", 2, "INFY", "SELL", 10, "exit", "1499.00", "2.00", "-10.00"),
        ],
    )
    write_checkpoint(fno_day, "options", date="2026-11-26")  # another day's: ignored
    report = report_of(fno_day)
    equity, total = report["engines"]["equity"], report["total"]
    assert set(report["engines"]) == {"fno", "equity"}
    assert (equity["status"], equity["as_of_ist"], equity["consistency"]["result"]) == (
        "missing",
        None,
        "unchecked",
    )
    assert (equity["net_pnl_rupees"], equity["trades"], equity["losses"], equity["win_rate"]) == (
        "-14.00",
        1,
        1,
        0.0,
    )
    assert (total["net_pnl_rupees"], total["orders_placed"], total["trades"], total["wins"]) == (
        "487.84",
        11,
        4,
        2,
    )
    assert total["win_rate"] == 0.5
    assert total["charges_itemised"]["brokerage_rupees"] == "12.16"


def test_open_positions_squared_off_and_risk_exits_are_listed(fno_day: Path) -> None:
    fno = report_of(fno_day)["engines"]["fno"]
    assert [(o["symbol"], o["side"], o["filled_quantity"], o["average_price"], o["realised_pnl_rupees"])
            for o in fno["squared_off"]] == [("BANK", "SELL", 60, "206.0000", "60.00")]  # fmt: skip
    assert [o["order_id"] for o in fno["risk_exits"]] == ["fno-20261127-000004"]
    assert fno["open_positions"] == [
        {"symbol": "FIN", "quantity": 10, "last_price_rupees": "310.00", "unrealised_pnl_rupees": "100.00"}
    ]


def test_a_breakeven_trade_is_a_loss_and_no_closed_trade_gives_nulls(tmp_path: Path) -> None:
    write_orders(tmp_path, [order("fno", 1, "NIFTY", "BUY", 50, charges="1.00")])
    fno = report_of(tmp_path)["engines"]["fno"]
    assert (fno["trades"], fno["trades_open"], fno["win_rate"], fno["profit_factor"]) == (0, 1, None, None)
    write_orders(
        tmp_path,
        [
            order("fno", 1, "NIFTY", "BUY", 50, charges="0.50"),
            order("fno", 2, "NIFTY", "SELL", 50, "exit", "100.02", "0.50", "1.00"),  # 1.00 - 0.50 - 0.50 = 0
        ],
    )
    fno = report_of(tmp_path)["engines"]["fno"]
    assert (fno["trades"], fno["wins"], fno["losses"], fno["win_rate"]) == (1, 0, 1, 0.0)
    assert fno["profit_factor"] is None  # nothing was lost: no ratio


def test_reason_prefix_is_the_first_clause() -> None:
    assert reason_prefix("insufficient margin: required 1.00, available 0.50") == "insufficient margin"
    assert (
        reason_prefix("daily loss limit breached today; no new entries") == "daily loss limit breached today"
    )
    assert reason_prefix("max_open_positions (10) already open") == "max_open_positions (10) already open"
    assert reason_prefix("") == "(no reason given)"


# --- consistency -------------------------------------------------------------------------------------


def test_consistency_ok_when_the_checkpoint_agrees(fno_day: Path) -> None:
    consistency = report_of(fno_day)["engines"]["fno"]["consistency"]
    assert consistency["result"] == "ok"
    assert consistency["orders_csv"] == {"realised_pnl_rupees": "410.00", "charges_rupees": "8.16"}
    assert consistency["checkpoint"] == {"realised_pnl_rupees": "410.00", "charges_rupees": "8.16"}


def test_consistency_counts_the_fills_of_orders_still_working(fno_day: Path) -> None:
    working = {"order_id": "fno-x", "filled": 5, "realised": 0, "charges": {"brokerage": 20, "igst": 4}}
    write_checkpoint(
        fno_day, "fno", **{**FNO_CHECKPOINT, "charges_paise": 840, "desk": {"working": [working]}}
    )
    consistency = report_of(fno_day)["engines"]["fno"]["consistency"]
    assert consistency["result"] == "ok"
    assert consistency["working_orders"] == {
        "orders": 1,
        "realised_pnl_rupees": "0.00",
        "charges_rupees": "0.24",
    }


def test_consistency_mismatch_reports_both_figures(fno_day: Path) -> None:
    write_checkpoint(fno_day, "fno", **{**FNO_CHECKPOINT, "charges_paise": 815})
    assert report_of(fno_day)["engines"]["fno"]["consistency"]["result"] == "mismatch"
    assert run_cli(fno_day) == 0
    markdown = ArtifactPaths(fno_day).daily_report(DAY, "md").read_text()
    assert (
        "**disagree**:\norders.csv gives realised 410.00 and charges 8.16, the checkpoint 410.00 and 8.15."
        in (markdown)
    )


def test_an_order_id_written_twice_is_a_consistency_mismatch(tmp_path: Path) -> None:
    write_orders(
        tmp_path, [order("fno", 1, "NIFTY", "BUY", 50, charges="9.99"), order("fno", 1, "NIFTY", "BUY", 50)]
    )
    fno = report_of(tmp_path)["engines"]["fno"]
    assert (fno["orders_placed"], fno["charges_rupees"]) == (2, "9.99")  # every row counts
    assert fno["consistency"]["result"] == "mismatch"
    assert fno["consistency"]["repeated_order_ids"] == ["fno-20261127-000001"]


def test_no_orders_csv_means_zero_orders(tmp_path: Path) -> None:
    write_checkpoint(tmp_path, "fno")
    fno = report_of(tmp_path)["engines"]["fno"]
    assert (fno["orders_placed"], fno["trades"], fno["net_pnl_rupees"]) == (0, 0, "0.00")
    assert fno["consistency"]["result"] == "ok"


# --- the journal: fills in time order, and notable events ----------------------------------------------


def test_the_journal_gives_each_fill_its_own_time(tmp_path: Path) -> None:
    ts = "2026-11-27T11:{:02d}:00.000+05:30"
    events = [
        event("fno", 1, ts.format(0), "start", day="2026-11-27", from_ist=None),
        # one order filled in two parts at two prices: 20 @ 100.00, then 30 @ 101.00 and 10 @ 102.00
        fill_event("fno", 2, ts.format(1), "NIFTY", "BUY", [[20, 10000]], 0, 100),
        fill_event("fno", 3, ts.format(2), "NIFTY", "BUY", [[30, 10100], [10, 10200]], 0, 200),
        fill_event("fno", 4, ts.format(3), "NIFTY", "SELL", [[60, 10300]], 13000, 300, strategy=""),
    ]
    fills = fills_from_journal(events)
    assert fills["units"].tolist() == [20, 40, -60]
    assert fills["value_paise"].tolist() == [200000, 405000, 618000]
    curve = equity_curve(fills)
    # 20 bought at the mark: -1.00; 60 held marked at 102.00: -6050 + 6120 - 3.00; flat: 6180 - 6050 - 6.00
    assert curve["equity_paise"].tolist() == [-100, 6700, 12400]
    table, attributed = trades(fills)
    assert table["strategy"].tolist() == ["ema_cross"] and attributed["fno-20261127-000004"] == "ema_cross"


def test_notable_events_include_unknown_kinds_and_stop_reasons(tmp_path: Path) -> None:
    write_checkpoint(tmp_path, "fno", status="failed", as_of_ist="2026-11-27T12:00:00.000+05:30")
    ts = "2026-11-27T1{}:00:00.000+05:30"
    write_journal(
        tmp_path,
        "fno",
        [
            event("fno", 1, ts.format(0), "start", day="2026-11-27", from_ist=None),
            event(
                "fno", 2, ts.format(1), "symbol_blocked", symbol="BANK", pnl_paise=-812345, limit_paise=800000
            ),
            event("fno", 3, ts.format(1), "risk_halt", net_pnl_paise=-2500100, limit_paise=2500000),
            event("fno", 4, ts.format(1), "feed_drop", reconnect_s=3),  # a kind this code does not know
            event(
                "fno", 5, ts.format(2), "resume", from_ist="2026-11-27T11:00:00.000+05:30", replaying_events=3
            ),
            event("fno", 6, ts.format(2), "stop", reason="signal", net_pnl_paise=0, open_positions=0),
        ],
    )
    report = report_of(tmp_path)
    events = report["events"]
    assert [e["event"] for e in events["items"]] == [
        "symbol_blocked",
        "risk_halt",
        "feed_drop",
        "resume",
        "stop",
    ]
    assert events["counts"] == {"risk_halt": 1, "symbol_blocked": 1, "feed_drop": 1, "resume": 1, "stop": 1}
    details = {e["event"]: e["detail"] for e in events["items"]}
    assert details["symbol_blocked"].startswith("per_symbol_max_loss breached on BANK: P&L -8,123.45 against")
    assert details["feed_drop"] == 'unknown event: {"reconnect_s": 3}'
    assert "resumed from its checkpoint at 11:00:00, re-running 3" in details["resume"]
    notes = report["outcome"]["notes"]
    assert (
        "fno: did not finish the day (its last checkpoint, of 12:00:00, says failed); the report covers "
        "what it did up to its last journal event, at 12:00:00." in notes
    )
    assert "fno: restarted 1 time(s) during the day, resuming from its journal." in notes
    assert report["outcome"]["complete"] is False


def test_a_journal_line_cut_short_by_a_crash_is_left_out(tmp_path: Path) -> None:
    path = write_journal(tmp_path, "fno", [event("fno", 1, "2026-11-27T10:00:00.000+05:30", "start")])
    path.write_text(path.read_text() + '{"seq": 2, "ts_ist": "2026-11-')
    assert len(load_inputs(ArtifactPaths(tmp_path), DAY).journals["fno"]) == 1


def test_a_damaged_journal_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_journal(tmp_path, "fno", [event("fno", 1, "2026-11-27T10:00:00.000+05:30", "start")])
    path.write_text(path.read_text() + "not json\n")
    with pytest.raises(ArtifactError, match=rf"{re.escape(str(path))}:2: not a journal event"):
        load_inputs(ArtifactPaths(tmp_path), DAY)
    bad = fill_event("fno", 2, "2026-11-27T10:00:00.000+05:30", "NIFTY", "BUY", [[1, 2, 3]], 0, 0)
    write_journal(tmp_path, "fno", [bad])
    with pytest.raises(ArtifactError, match=r"fno\.jsonl:1: key 'fill_levels' is \[\[1, 2, 3\]\]"):
        load_inputs(ArtifactPaths(tmp_path), DAY)


# --- orders.csv and checkpoint validation -----------------------------------------------------------------


def test_a_malformed_orders_row_names_the_file_and_line(
    fno_day: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = ArtifactPaths(fno_day).orders
    lines = orders.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(",1.20,", ",1.2,", 1)  # line 4: header, yesterday's row, seq 2, seq 4
    orders.write_text("".join(lines))
    assert run_cli(fno_day) == 1
    assert f"{orders}:4: column 'charges' is '1.2'" in capsys.readouterr().err
    assert not ArtifactPaths(fno_day).daily_report(DAY, "json").exists()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("filled_quantity", 99, "column 'filled_quantity' is '99', expected at most the order's quantity"),
        ("charges", "1.01", "column 'charges' is '1.01', expected the sum of brokerage, stt"),
        ("status", "OPEN", "column 'status' is 'OPEN', expected one of COMPLETE, REJECTED, CANCELLED"),
        ("touch_price", "1.5", "column 'touch_price' is '1.5', expected rupees like 1234.50, or empty"),
    ],
)
def test_row_rules_name_the_column_and_the_rule(
    tmp_path: Path, column: str, value: object, message: str
) -> None:
    row = {**order("fno", 1, "NIFTY", "BUY", 50, charges="1.00"), column: value}
    write_orders(tmp_path, [order("fno", 2, "NIFTY", "BUY", 50), row])
    with pytest.raises(ArtifactError, match=rf"orders\.csv:3: {re.escape(message)}"):
        load_inputs(ArtifactPaths(tmp_path), DAY)


def test_a_truncated_row_names_the_line(fno_day: Path) -> None:
    orders = ArtifactPaths(fno_day).orders
    orders.write_text(orders.read_text() + "2026-11-27T15:00:00.000+05:30,fno,ema_cross,99,fno-1,COMPLETE\n")
    with pytest.raises(ArtifactError, match=r"orders\.csv:12: column 'symbol' is ''"):
        load_inputs(ArtifactPaths(fno_day), DAY)


def test_the_old_orders_header_is_refused_with_the_expected_one(tmp_path: Path) -> None:
    ArtifactPaths(tmp_path).orders.write_text("ts_ist,engine,seq,order_id,event,price\n")
    with pytest.raises(
        ArtifactError, match=r"orders\.csv:1: header is 'ts_ist,engine,seq,order_id,event,price'"
    ):
        load_inputs(ArtifactPaths(tmp_path), DAY)


def test_a_malformed_checkpoint_names_file_and_line(
    fno_day: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = ArtifactPaths(fno_day).checkpoint("fno")
    checkpoint.write_text('{\n "date": "2026-11-27",\n "status": }\n')
    assert run_cli(fno_day) == 1
    assert f"{checkpoint}:3: not valid JSON" in capsys.readouterr().err
    write_checkpoint(fno_day, "fno", charges_paise="8.16")
    with pytest.raises(
        ArtifactError, match=r"fno\.json: key 'charges_paise' is '8\.16', expected an integer"
    ):
        load_inputs(ArtifactPaths(fno_day), DAY)


# --- the command line -----------------------------------------------------------------------------------


def test_cli_writes_json_markdown_and_charts_and_prints_the_json_path(
    fno_day: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(fno_day) == 0
    paths = ArtifactPaths(fno_day)
    json_path, md_path = paths.daily_report(DAY, "json"), paths.daily_report(DAY, "md")
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == str(json_path)
    assert str(json_path) in err and str(md_path) in err
    report = json.loads(json_path.read_text())
    assert report["schema"] == 2 and report["engines"]["fno"]["net_pnl_rupees"] == "501.84"
    assert report["generated_at"].startswith("20")
    charts = [report["charts"]["pnl_by_symbol"], *report["charts"]["equity"].values()]
    assert sorted(report["charts"]["equity"]) == [ACCOUNT, "fno"]
    for chart in charts:
        assert (json_path.parent / chart).read_bytes().startswith(b"\x89PNG")
    markdown = md_path.read_text()
    assert markdown.startswith("# Paperfleet daily report: 2026-11-27\n\n## Summary\n\nNet P&L **₹501.84**")
    assert "| fno | stopped | 501.84 | 410.00 | 8.16 | 100.00 | 9 | 6 | 2 | 3 | 67% |" in markdown
    assert "Net P&L **₹501.84** = realised 410.00 - charges 8.16 + unrealised 100.00." in markdown
    assert "| fno | insufficient margin | 2 |" in markdown
    for chart in charts:
        assert f"]({chart})" in markdown
    sections = re.findall(r"^## (.+)$", markdown, re.MULTILINE)
    assert sections == ["Summary", "Session", "Engine fno", "P&L by symbol", "Notable events", "Backtest"]
    assert not list(md_path.parent.rglob(".*.tmp"))


def test_session_record_is_included_verbatim_and_summarised(fno_day: Path) -> None:
    options = {"service": "options", "container": "pf-options", "container_id": "def", "exit_code": 1}
    engines = {"fno": {"service": "fno", "exit_code": 0}, "options": options}
    session = write_session(fno_day, ended_by="engine_failed", exit_code=1, engines=engines)
    assert run_cli(fno_day) == 0
    paths = ArtifactPaths(fno_day)
    report = json.loads(paths.daily_report(DAY, "json").read_text())
    assert report["session"] == session
    assert report["engines"]["options"]["status"] == "missing"  # in the session record only
    assert report["outcome"]["ended_by"] == "engine_failed"
    assert "options: its container exited with code 1." in report["outcome"]["notes"]
    markdown = paths.daily_report(DAY, "md").read_text()
    assert "ended by **engine_failed**" in markdown
    assert "| options | options | pf-options | 1 |" in markdown
    assert "- An engine failed, and the session stopped the others." in markdown


def test_missing_session_record_is_null_and_said(fno_day: Path) -> None:
    assert run_cli(fno_day) == 0
    paths = ArtifactPaths(fno_day)
    report = json.loads(paths.daily_report(DAY, "json").read_text())
    assert report["session"] is None and report["outcome"]["ended_by"] == "outside_controller"
    assert "ran outside the session controller" in paths.daily_report(DAY, "md").read_text()


@pytest.mark.parametrize("value", ["2026-13-01", "27-11-2026", "20261127", "today"])
def test_bad_date_is_a_usage_error(tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--date", value, "--artifacts", str(tmp_path)]) == 2
    assert f"--date (or PAPERFLEET_DATE): {value!r} is not a date" in capsys.readouterr().err


def test_date_is_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PAPERFLEET_DATE", raising=False)
    assert main(["--artifacts", str(tmp_path)]) == 2
    assert "--date is required" in capsys.readouterr().err


def test_environment_gives_the_defaults(fno_day: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFLEET_DATE", DAY.isoformat())
    monkeypatch.setenv("PAPERFLEET_ARTIFACTS", str(fno_day))
    monkeypatch.setenv("PAPERFLEET_CONFIG", str(fno_day / "absent.yaml"))
    assert main([]) == 0
    backtest = json.loads(ArtifactPaths(fno_day).daily_report(DAY, "json").read_text())["backtest"]
    assert backtest["status"] == "skipped" and "absent.yaml" in backtest["detail"]
    assert ArtifactPaths(fno_day).daily_report(DAY, "md").exists()


def test_missing_artifacts_directory_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(tmp_path / "nope") == 2
    assert "--artifacts:" in capsys.readouterr().err


def test_the_job_imports_nothing_from_the_host_side() -> None:
    """It runs in the slim engine image, which has no python-on-whales, docker, kiteconnect or joblib."""
    host_side = ("python_on_whales", "docker", "kiteconnect", "joblib", "tqdm")
    probe = f"import sys, session.eod.__main__; print(sorted(m for m in {host_side} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- the docs --------------------------------------------------------------------------------------------


def documented_keys() -> dict[str, set[str]]:
    """Backticked keys in the first column of each key table of docs/eod-report.md, by heading."""
    sections: dict[str, set[str]] = defaultdict(set)
    heading = ""
    for line in (REPO / "docs" / "eod-report.md").read_text().splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif found := re.match(r"\| `([a-z_]+)` \|", line):
            sections[heading].add(found.group(1))
    return sections


def row_keys(heading: str, docs: dict[str, set[str]]) -> set[str]:
    return docs[heading] - {"engine", "strategy", "symbol"}


def test_every_report_key_is_documented(fno_day: Path) -> None:
    ts = "2026-11-27T10:{:02d}:00.000+05:30"
    write_journal(
        fno_day, "fno", [event("fno", 1, ts.format(0), "start"), event("fno", 2, ts.format(1), "fault")]
    )
    assert run_cli(fno_day) == 0  # generated_at and charts are added by the CLI
    report = json.loads(ArtifactPaths(fno_day).daily_report(DAY, "json").read_text())
    fno, docs = report["engines"]["fno"], documented_keys()
    row = "A row of figures (`by_strategy`, `by_symbol`; also in `engines.<name>` and `total`)"
    assert set(report) == docs["Top-level keys"]
    assert set(report["outcome"]) == docs["`outcome`"]
    assert set(report["by_strategy"][0]) == row_keys(row, docs) | {"engine", "strategy"}
    assert set(report["by_symbol"][0]) == row_keys(row, docs) | {"engine", "symbol"}
    assert set(fno) == row_keys(row, docs) | docs["Per-engine keys (`engines.<name>`)"]
    engine_only = {
        "status",
        "as_of_ist",
        "strategies",
        "squared_off",
        "risk_exits",
        "open_positions",
        "consistency",
    }
    assert set(report["total"]) == set(fno) - engine_only
    assert set(fno["charges_itemised"]) == docs["`charges_itemised`"]
    assert set(fno["equity_curve"][0]) == docs["Items of `equity_curve`"]
    assert (
        set(fno["squared_off"][0])
        == set(fno["risk_exits"][0])
        == docs["Items of `squared_off` and `risk_exits`"]
    )
    assert set(fno["open_positions"][0]) == docs["Items of `open_positions`"]
    assert set(fno["consistency"]) == docs["`consistency`"]
    assert set(report["events"]) == docs["`events`"]
    assert set(report["events"]["items"][0]) == docs["Items of `events.items`"]
    assert set(report["charts"]) == docs["`charts`"]
    assert set(report["backtest"]) == docs["`backtest`"]
