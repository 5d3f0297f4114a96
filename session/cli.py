"""`session` command line (the controller arrives with the containers issue)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="session", description="Run a Paperfleet trading day.")
    parser.parse_args(argv)
    parser.print_help(sys.stderr)
    return 2
