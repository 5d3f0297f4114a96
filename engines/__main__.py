"""Entry point: `python -m engines --config configs/dev.yaml` runs every enabled engine in one process,
one thread each (the `single` layout; see engines/cli.py)."""

from engines.cli import run

run(None)
