"""Field types shared by the config and the strategies' parameter models: constraints live in the types."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError


def _parse_clock_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 09:15 as the sexagesimal integer 555.
        hours, minutes = divmod(value, 60)
        value = f"{hours:02d}:{minutes:02d}"
    if isinstance(value, str):
        try:
            hours_text, minutes_text = value.strip().split(":")
            parsed = time(int(hours_text), int(minutes_text))
        except ValueError:
            pass
        else:
            return parsed
    raise PydanticCustomError(
        "clock_time", "{value} is not a time of day; use 'HH:MM' in IST, e.g. '09:15'", {"value": repr(value)}
    )


ClockTime = Annotated[time, BeforeValidator(_parse_clock_time)]
