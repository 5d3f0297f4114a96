"""Logging: every line names its engine, so the three streams stay apart when they interleave."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

_IST_OFFSET_S = 5 * 3600 + 30 * 60


class _IstFormatter(logging.Formatter):
    converter = staticmethod(lambda seconds: time.gmtime((seconds or 0) + _IST_OFFSET_S))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return (
            time.strftime("%Y-%m-%d %H:%M:%S", self.converter(record.created))
            + f".{int(record.msecs):03d} IST"
        )


def add_log_level(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        default=os.environ.get("PAPERFLEET_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="(default: PAPERFLEET_LOG_LEVEL, else %(default)s)",
    )


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_IstFormatter("%(asctime)s %(levelname)-7s %(name)-7s | %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def engine_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
