"""Entry point: `python -m engines.fno --config configs/dev.yaml --mode paper` (see engines/cli.py)."""

from engines.cli import run
from engines.config import EngineName

if __name__ == "__main__":
    run(EngineName.FNO)
