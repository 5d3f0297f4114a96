"""Shared-file primitives: whole rows under concurrent appends, one header, atomic snapshots."""

from __future__ import annotations

import csv
import multiprocessing
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from engines.artifacts.files import (
    ArtifactWriteError,
    SharedCsv,
    cut_to_last_line,
    read_json,
    write_json_atomic,
)
from engines.artifacts.journal import Journal, JournalMismatch, Replayed
from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.recorder import Recorder
from engines.charges import Charges
from engines.errors import EngineFailure
from engines.orders import Fill, Order, OrderState, OrderTag, Side
from tests.factories import FUT, T0

COLUMNS = ("engine", "seq", "payload")


def _writer(path: str, engine: str, rows: int, start: multiprocessing.synchronize.Barrier) -> None:
    start.wait()  # every writer creates the file at the same moment
    shared = SharedCsv(Path(path), COLUMNS)
    for seq in range(1, rows + 1):
        shared.append({"engine": engine, "seq": seq, "payload": f"{engine}-{seq}," + "x" * (seq % 700)})
    shared.close()


def test_concurrent_writers_produce_one_header_and_whole_rows(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    engines, rows = ("fno", "equity", "options", "extra"), 3_000
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(engines))
    workers = [context.Process(target=_writer, args=(str(path), e, rows, start)) for e in engines]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    lines = path.read_text().splitlines()
    assert lines.count("engine,seq,payload") == 1 and lines[0] == "engine,seq,payload"
    records = list(csv.DictReader(lines))
    assert len(records) == len(engines) * rows
    for engine in engines:
        seqs = [int(r["seq"]) for r in records if r["engine"] == engine]
        assert seqs == list(range(1, rows + 1))  # in order per writer, none lost
    assert all(r["payload"].startswith(f"{r['engine']}-{r['seq']},") for r in records)  # none torn
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_csv_with_another_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("old,header\n")
    with pytest.raises(EngineFailure, match="existing header 'old,header' differs"):
        SharedCsv(path, COLUMNS)


def test_values_with_commas_and_quotes_stay_one_field(tmp_path: Path) -> None:
    shared = SharedCsv(tmp_path / "s.csv", COLUMNS)
    shared.append({"engine": "fno", "seq": 1, "payload": 'ema9 "crossed", above'})
    shared.close()
    rows = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert rows == [{"engine": "fno", "seq": "1", "payload": 'ema9 "crossed", above'}]


def test_atomic_json_replaces_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints" / "fno.json"
    write_json_atomic(path, {"status": "running", "n": 1}, durable=True)
    write_json_atomic(path, {"status": "stopped"}, durable=False)
    assert read_json(path) == {"status": "stopped"}
    assert os.listdir(path.parent) == ["fno.json"]


_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from engines.artifacts.files import ArtifactWriteError, SharedCsv
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a size limit then fails the write instead of killing us
shared = SharedCsv(Path(sys.argv[1]), ("engine", "seq", "payload"))
shared.append({"engine": "fno", "seq": 1, "payload": "first"})
size = Path(sys.argv[1]).stat().st_size
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 20, size + 20))  # room for part of the next row only
try:
    shared.append({"engine": "fno", "seq": 2, "payload": "x" * 200})
except ArtifactWriteError as exc:
    print(exc)
"""


def test_a_write_cut_short_by_a_full_disk_leaves_no_partial_row(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    assert f"cannot write {path}: File too large" in done.stdout
    assert path.read_text() == "engine,seq,payload\nfno,1,first\n"  # the torn row was cut off


def test_cut_to_last_line_removes_only_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":')
    assert cut_to_last_line(path) and path.read_bytes() == b'{"a":1}\n'
    assert not cut_to_last_line(path)
    path.write_bytes(b"no newline at all")
    assert cut_to_last_line(path) and path.read_bytes() == b""


def test_a_failed_snapshot_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "checkpoint.json"
    write_json_atomic(target, {"v": 1}, durable=True)

    def full_disk(fd: int, data: bytes) -> int:
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(ArtifactWriteError, match=r"cannot write .*checkpoint\.json: No space left on device"):
        write_json_atomic(target, {"v": 2}, durable=True)
    monkeypatch.undo()
    assert read_json(target) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_the_journal_cuts_a_torn_last_event_when_read(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "fno.jsonl")
    journal.append({"seq": 1, "event": "start"})
    journal.close()
    with (tmp_path / "fno.jsonl").open("ab") as handle:
        handle.write(b'{"seq":2,"ev')
    assert Journal(tmp_path / "fno.jsonl").read() == [{"seq": 1, "event": "start"}]


def test_replayed_events_match_ignoring_seq_and_wall_time_and_name_both_files(tmp_path: Path) -> None:
    events = [
        {"seq": 1, "event": "start", "wall_time": "w"},
        {"seq": 2, "event": "signal", "symbol": "A", "wall_time": "w1"},
        {"seq": 3, "event": "order", "order_id": "x-1", "wall_time": "w2"},
    ]
    replay = Replayed(tmp_path / "j.jsonl", tmp_path / "cp.json", events)
    assert len(replay) == 2  # the start event is not re-made
    assert replay.match({"seq": 0, "event": "signal", "symbol": "A", "wall_time": "other"}) == 2
    with pytest.raises(JournalMismatch, match=r"j.jsonl: resuming from its checkpoint .*cp.json.* seq 3"):
        replay.match({"seq": 0, "event": "order", "order_id": "x-2", "wall_time": "w2"})


def test_reconcile_writes_the_rows_a_crash_kept_out_of_the_csvs(tmp_path: Path) -> None:
    paths = ArtifactPaths(tmp_path)
    day = date(2026, 11, 27)
    recorder = Recorder("fno", day, paths, Journal(paths.journal(day, "fno")), [])
    order = Order("fno-20261127-000001", T0, FUT, Side.BUY, 65, OrderTag.ENTRY, strategy="ema_cross")
    state = OrderState(
        order, 2_750_030, T0, filled=65, value=65 * 2_750_030, charges=Charges(brokerage=2_000), fills=1
    )
    fill = Fill(order, ((65, 2_750_030),), Charges(brokerage=2_000), 0)
    event = recorder.fill(state, fill, T0)
    recorder.close()  # killed before publish(): the fill is journalled, the CSV row is missing
    history = Journal(paths.journal(day, "fno")).read()
    again = Recorder("fno", day, paths, Journal(paths.journal(day, "fno")), history)
    assert again.reconcile(history) == 1
    assert again.reconcile(history) == 0  # idempotent
    again.close()
    rows = list(csv.DictReader(paths.orders.open()))
    assert [(r["seq"], r["order_id"], r["status"], r["average_price"], r["charges"]) for r in rows] == [
        (str(event["seq"]), "fno-20261127-000001", "COMPLETE", "27500.3000", "20.00")
    ]
