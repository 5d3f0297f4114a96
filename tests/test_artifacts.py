"""Shared-file primitives: whole rows under concurrent appends, one header, atomic snapshots."""

from __future__ import annotations

import csv
import multiprocessing
import os
from pathlib import Path

import pytest

from engines.artifacts.files import SharedCsv, read_json, write_json_atomic

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
    with pytest.raises(OSError, match="existing header 'old,header' differs"):
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
