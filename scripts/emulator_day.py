"""A Kite-fed paper day against the Kite emulator, through the containers: what a live day does, offline.

    .venv/bin/python scripts/emulator_day.py [--layout single|multi] [--minutes 3] [--root DIR]

It writes a test day under --root (default: a new directory in /tmp): the emulator's credentials, a
matching secrets file (a made-up access token, issued now), and a config whose session opens within the
next minute and lasts --minutes, with the Kite feed on the emulator (market_data.kite.emulator: true) and
a strategy that trades on its first ticks (tests/strategies/opening_trade.py, mounted as the trader's
strategies_dir). Then it starts the emulator as a compose service (docker/kite-emulator.yaml), runs
`session run --layout ...` (checks, engines, close, end-of-day job), stops the emulator, and prints where
the report and the emulator's request log are. Exit code: `session run`'s. Needs the images
(scripts/setup.sh).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.kite_day import CONTAINER_UID, write_kite_day  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--layout", choices=["single", "multi"], default="single")
    parser.add_argument("--minutes", type=int, default=3, help="the session's length (default: %(default)s)")
    parser.add_argument(
        "--root", type=Path, default=None, help="where the day's files go (default: a new /tmp dir)"
    )
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="paperfleet-emulator-day-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    day = write_kite_day(
        root, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", for_containers=True, minutes=args.minutes
    )
    log_dir = root / "emulator" / "log"
    log_dir.mkdir()
    if os.geteuid() == 0:
        os.chown(log_dir, CONTAINER_UID, CONTAINER_UID)
    env = os.environ | {
        "PAPERFLEET_KITE_EMULATOR_CREDENTIALS": str(day.credentials),
        "PAPERFLEET_KITE_EMULATOR_LOG_DIR": str(log_dir),
        "PAPERFLEET_KITE_EMULATOR_PORT": str(port),
        "PAPERFLEET_KITE_NETWORK": "paperfleet-kite-emulator",
    }
    if os.geteuid() != 0:
        env |= {"PAPERFLEET_UID": str(os.getuid()), "PAPERFLEET_GID": str(os.getgid())}
    emulator = ["docker", "compose", "-f", "docker/kite-emulator.yaml", "--project-directory", str(ROOT)]
    print(
        f"day files in {root}; session {day.open:%H:%M}-{day.close:%H:%M} IST; starting the emulator",
        flush=True,
    )
    subprocess.run([*emulator, "up", "-d", "--wait"], cwd=ROOT, env=env, check=True)
    try:
        session = [
            sys.executable,
            "-m",
            "session",
            "run",
            "--config",
            str(day.config),
            "--layout",
            args.layout,
        ]
        code = subprocess.run(session, cwd=ROOT, env=env).returncode
    finally:
        subprocess.run([*emulator, "down"], cwd=ROOT, env=env, capture_output=True)
    print(f"report: {day.artifacts / 'reports' / 'daily' / (day.date + '.md')}")
    print(f"emulator request log: {log_dir / 'requests.jsonl'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
