"""Benchmark of the Kite emulator's ticker: how many full-mode ticks per second it streams to one socket.

    .venv/bin/python scripts/bench_kite_emulator.py [--instruments 3000] [--speeds 1,5,10,20,40] [--seconds 5]

The emulator runs as its own process (`python -m engines.kite.emulator`, loopback, a temporary
credentials file). For each speed one socket subscribes `--instruments` tokens in full mode and counts
packets for `--seconds` with a bare aiohttp client that reads only the frame headers, so the figure is
the emulator's, not a parser's. Then the official KiteTicker (kiteconnect 5.2.2, Twisted, its Python
struct parser) does the same at each speed, which shows what a consumer built on it can take.
It prints one JSON line per run; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
KEY, SECRET, TOKEN = "bench-key", "bench-secret", "bench-access-token"


def start_emulator(folder: Path, speed: float) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    credentials = folder / "kite.json"
    credentials.write_text(json.dumps({"api_key": KEY, "api_secret": SECRET, "access_token": TOKEN}))
    credentials.chmod(0o600)
    command = [sys.executable, "-m", "engines.kite.emulator", "--credentials", str(credentials),
               "--speed", str(speed), "--date", "2026-11-27", "--log-level", "WARNING"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def tokens(rest_root: str, count: int) -> list[int]:
    from kiteconnect import KiteConnect

    rows = KiteConnect(KEY, access_token=TOKEN, root=rest_root).instruments()
    return [int(r["instrument_token"]) for r in rows[:count]]


async def bare_client(ws_root: str, subscribed: list[int], seconds: float) -> dict[str, float]:
    url = f"{ws_root}/?api_key={KEY}&access_token={TOKEN}"
    packets = frames = size = 0
    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=1 << 24) as ws:
        await ws.send_str(json.dumps({"a": "subscribe", "v": subscribed}))
        await ws.send_str(json.dumps({"a": "mode", "v": ["full", subscribed]}))
        warm = time.monotonic()
        while time.monotonic() - warm < 1.0:  # the subscription's first frame, and a steady state
            await ws.receive(timeout=seconds)
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            msg = await ws.receive(timeout=seconds)
            if msg.type is aiohttp.WSMsgType.BINARY and len(msg.data) > 1:
                packets += int.from_bytes(msg.data[:2], "big")
                frames += 1
                size += len(msg.data)
        elapsed = time.monotonic() - started
    return {"ticks_per_s": round(packets / elapsed), "frames_per_s": round(frames / elapsed, 1),
            "mb_per_s": round(size / elapsed / 1e6, 2)}  # fmt: skip


def kiteticker_client(ws_root: str, subscribed: list[int], seconds: float) -> dict[str, float]:
    from kiteconnect import KiteTicker
    from twisted.internet import reactor

    count = [0]
    connected = threading.Event()

    def on_connect(ws: Any, response: Any) -> None:
        ws.subscribe(subscribed)
        ws.set_mode("full", subscribed)
        connected.set()

    ticker = KiteTicker(KEY, TOKEN, root=ws_root)
    ticker.on_ticks = lambda ws, ticks: count.__setitem__(0, count[0] + len(ticks))
    ticker.on_connect = on_connect
    if reactor.running:  # Twisted is not thread-safe: a later ticker connects from the reactor's thread
        reactor.callFromThread(ticker.connect, threaded=True)
    else:
        ticker.connect(threaded=True)
    connected.wait(10)
    time.sleep(1.0)
    first, started = count[0], time.monotonic()
    time.sleep(seconds)
    received = count[0] - first
    reactor.callFromThread(ticker.close)
    time.sleep(0.5)
    return {"ticks_per_s": round(received / (time.monotonic() - started - 0.5))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=3000)
    parser.add_argument("--speeds", default="1,5,10,20,40")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    for client in ("bare", "kiteticker"):
        for speed in [float(s) for s in args.speeds.split(",")]:
            with tempfile.TemporaryDirectory() as folder:
                proc, ready = start_emulator(Path(folder), speed)
                try:
                    subscribed = tokens(ready["rest_root"], args.instruments)
                    if client == "bare":
                        figures = asyncio.run(bare_client(ready["ws_root"], subscribed, args.seconds))
                    else:
                        figures = kiteticker_client(ready["ws_root"], subscribed, args.seconds)
                finally:
                    proc.terminate()
                    proc.wait(10)
            offered = round(speed * len(subscribed))
            run = {"client": client, "instruments": len(subscribed), "mode": "full", "speed": speed}
            print(json.dumps({**run, "offered_ticks_per_s": offered, **figures}), flush=True)


if __name__ == "__main__":
    main()
