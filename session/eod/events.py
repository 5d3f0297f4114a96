"""What happened during the day, besides the trading: how it ended, and the journal's notable events.

Notable: restarts (`resume`), risk stops (`risk_halt`, `symbol_blocked`), injected faults, a stop for
any reason other than the close, and every event kind this code does not know (the Kite feed will add
its own, such as drops and reconnects): those are reported with their keys, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engines.artifacts.journal import EventKind
from engines.money import fmt_rupees

MAX_EVENTS = 200  # a feed storm must not bury the report; the counts still cover every event
_ROUTINE = frozenset(
    {
        EventKind.START,
        EventKind.CAUGHT_UP,
        EventKind.SIGNAL,
        EventKind.ORDER,
        EventKind.FILL,
        EventKind.REJECT,
        EventKind.CANCEL,
        EventKind.TRIGGERED,
        EventKind.MODIFY,
        EventKind.UNIVERSE,
        EventKind.SQUARE_OFF,
    }
)
_KNOWN = frozenset(kind.value for kind in EventKind)
_COMMON = ("seq", "ts_ist", "engine", "event", "wall_time")


def notable_events(journals: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The notable events of every engine in time order: `counts` by kind, and the first MAX_EVENTS as
    `items` ({ts_ist, engine, event, detail, data}); `omitted` says how many did not fit."""
    found: list[tuple[str, str, int, dict[str, Any]]] = []
    for name, events in journals.items():
        for event in events:
            kind = event["event"]
            if kind in _ROUTINE or (kind == EventKind.STOP and event.get("reason") == "close"):
                continue
            data = {k: v for k, v in event.items() if k not in _COMMON}
            engine = str(event.get("engine", name))
            found.append(
                (
                    event["ts_ist"],
                    engine,
                    event["seq"],
                    {
                        "ts_ist": event["ts_ist"],
                        "engine": engine,
                        "event": kind,
                        "detail": describe(kind, data),
                        "data": data,
                    },
                )
            )
    items = [item for *_, item in sorted(found, key=lambda f: f[:3])]
    counts: dict[str, int] = {}
    for item in items:
        counts[item["event"]] = counts.get(item["event"], 0) + 1
    return {"counts": counts, "items": items[:MAX_EVENTS], "omitted": max(0, len(items) - MAX_EVENTS)}


def describe(kind: str, data: Mapping[str, Any]) -> str:
    """One line for people; an unknown kind shows its keys as they are."""
    try:
        if kind == EventKind.RISK_HALT:
            return (
                f"max_daily_loss breached: net P&L {_rupees(data['net_pnl_paise'])} against the limit "
                f"{_rupees(data['limit_paise'])}; everything squared off, no new entries"
            )
        if kind == EventKind.SYMBOL_BLOCKED:
            return (
                f"per_symbol_max_loss breached on {data['symbol']}: P&L {_rupees(data['pnl_paise'])} "
                f"against the limit {_rupees(data['limit_paise'])}; squared off and blocked for the day"
            )
        if kind == EventKind.RESUME:
            origin = (
                f"its checkpoint at {str(data['from_ist'])[11:19]}" if data.get("from_ist") else "the open"
            )
            replaying = data.get("replaying_events", 0)
            return f"restarted: resumed from {origin}, re-running {replaying} journalled events"
        if kind == EventKind.FAULT:
            return f"fault injected: {data.get('detail', '')}"
        if kind == EventKind.STOP:
            return (
                f"stopped ({data.get('reason')}) with net P&L {_rupees(data['net_pnl_paise'])} and "
                f"{data.get('open_positions')} open position(s)"
            )
    except (KeyError, TypeError, ValueError):
        pass  # a known kind with other keys than expected: show it as it is
    prefix = "" if kind in _KNOWN else "unknown event: "
    return prefix + json.dumps(dict(data), sort_keys=True, default=str)[:300]


def _rupees(paise: Any) -> str:
    return f"{Decimal(fmt_rupees(int(paise))):,.2f}"


def outcome(
    session: Mapping[str, Any] | None,
    names: list[str],
    checkpoints: Mapping[str, Mapping[str, Any]],
    journals: Mapping[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """How the day ran: `ended_by` (the session's, or `outside_controller`), `complete` (every engine
    finished and none exited non-zero) and `notes`, one sentence per thing a reader should know."""
    notes: list[str] = []
    ended_by = session["ended_by"] if session else "outside_controller"
    if session is None:
        notes.append("The engines ran outside the session controller: there are no container exit codes.")
    elif ended_by == "close":
        notes.append("The session ran to the close.")
    elif ended_by == "signal":
        notes.append(
            f"The session was stopped by a signal (SIGTERM/SIGINT); it ended at {session['ended_at']}."
        )
    elif ended_by == "engine_failed":
        notes.append("An engine failed, and the session stopped the others.")
    elif ended_by == "feed_failed":
        notes.append(
            "The live feed failed (an engine exited 4: no ticks past market_data.kite.silence_limit_s), "
            "and the session stopped the others."
        )
    elif ended_by == "engine_hung":
        notes.append(
            "An engine stopped beating (hung, or its container paused) past controller.heartbeat_limit_s, "
            "and the session stopped the day."
        )
    elif ended_by == "controller_failed":
        notes.append(
            "The session controller itself failed (a Docker error or a bug; its log says which): it stopped "
            "the engines and ran this report."
        )
    elif ended_by == "start_failed":
        notes.append("The containers did not start: nothing traded.")
    else:
        notes.append(f"The session ended by {ended_by}.")
    complete = bool(names)
    exits = {n: e.get("exit_code") for n, e in (session["engines"].items() if session else ())}
    for name, entry in sorted(session["engines"].items()) if session else ():
        for restart in entry.get("restarts") or ():
            notes.append(
                f"{name}: exited with code {restart['exit_code']} and was restarted by the controller at "
                f"{str(restart['at'])[11:19]}; it resumed from its journal."
            )
    for name in names:
        checkpoint = checkpoints.get(name)
        status = checkpoint["status"] if checkpoint else "missing"
        if exits.get(name) not in (None, 0):
            feed = " (the live feed failed)" if exits[name] == 4 else ""
            notes.append(f"{name}: its container exited with code {exits[name]}{feed}.")
            complete = False
        if status == "missing":
            notes.append(
                f"{name}: no checkpoint for the day: its open positions and unrealised P&L are unknown."
            )
            complete = False
        elif checkpoint is not None and status != "finished":
            events = journals.get(name)
            last = f"its last journal event, at {str(events[-1]['ts_ist'])[11:19]}" if events else "then"
            as_of = str(checkpoint["as_of_ist"])[11:19]
            notes.append(
                f"{name}: did not finish the day (its last checkpoint, of {as_of}, says {status}); "
                f"the report covers what it did up to {last}."
            )
            complete = False
        resumes = [e for e in journals.get(name, ()) if e["event"] == EventKind.RESUME]
        if resumes:
            notes.append(
                f"{name}: restarted {len(resumes)} time(s) during the day, resuming from its journal."
            )
    return {"ended_by": ended_by, "complete": complete, "notes": notes}
