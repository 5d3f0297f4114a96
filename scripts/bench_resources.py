"""What each engine container uses over a whole simulated day: peak memory and CPU, sampled from
`docker stats`, plus the image sizes. These figures set compose.yaml's per-engine limits
(docs/contract.md, "Resources").

    .venv/bin/python scripts/bench_resources.py [--layout multi] [--speed max] [--config configs/dev.yaml]

It runs `session run` on a scratch artifacts directory (the config's other settings as they are) and prints a
table; nothing is timed or asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def to_bytes(text: str) -> float:
    number = text.rstrip("".join({c for unit in UNITS for c in unit}))
    return float(number) * UNITS[text[len(number) :]]


def sample(project: str, peaks: dict[str, dict[str, float]], done: threading.Event) -> None:
    while not done.is_set():
        out = subprocess.run(
            ["docker", "stats", "--no-stream", "--format", "json"], capture_output=True, text=True
        ).stdout
        for row in map(json.loads, out.splitlines()):
            name = row["Name"]
            if not name.startswith(f"{project}-"):
                continue
            service = name.removeprefix(f"{project}-").rsplit("-", 1)[0]
            peak = peaks.setdefault(service, {"mem": 0.0, "cpu": 0.0, "cpu_sum": 0.0, "samples": 0})
            peak["mem"] = max(peak["mem"], to_bytes(row["MemUsage"].split("/")[0].strip()))
            cpu = float(row["CPUPerc"].rstrip("%"))
            peak["cpu"] = max(peak["cpu"], cpu)
            peak["cpu_sum"] += cpu
            peak["samples"] += 1
        time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", default="multi", choices=["multi", "single"])
    parser.add_argument("--speed", default="max")
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "dev.yaml")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="pf-resources-"))
    raw = yaml.safe_load(args.config.read_text())
    raw["artifacts_dir"] = str(scratch / "artifacts")
    config = (
        args.config.parent / f".bench-resources-{scratch.name}.yaml"
    )  # beside it: its relative paths hold
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    project = f"pfres{int(time.time())}"
    peaks: dict[str, dict[str, float]] = {}
    done = threading.Event()
    sampler = threading.Thread(target=sample, args=(project, peaks, done), daemon=True)
    sampler.start()
    began = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "session", "run", "--config", str(config), "--layout", args.layout,
             "--speed", args.speed, "--project-name", project],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        done.set()
        sampler.join()
        config.unlink()
    wall = time.monotonic() - began
    print(
        f"session run --layout {args.layout} --speed {args.speed}: exit {result.returncode} in {wall:.0f} s"
    )
    print(f"{'service':<10} {'peak RSS':>10} {'peak CPU':>9} {'mean CPU':>9}  (docker stats, every ~1 s)")
    for service, peak in sorted(peaks.items()):
        mean = peak["cpu_sum"] / peak["samples"] if peak["samples"] else 0.0
        print(f"{service:<10} {peak['mem'] / 2**20:>7.0f} MiB {peak['cpu']:>8.0f}% {mean:>8.0f}%")
    images = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}", "--filter",
         "reference=paperfleet-*"],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    print("images:\n  " + "\n  ".join(sorted(images.split("\n")[:-1])))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
