"""What an engine subscribes to, resolved from the instrument master, and how it moves during the day.

A fixed universe (index futures, cash stocks) is subscribed once. An options universe follows the money:
each underlying's index is always subscribed, and its chain of the nearest expiry is subscribed in a
window of strikes around the at-the-money strike. When spot moves half a window away from the window's
centre, the window re-centres on the new ATM strike: the new strikes are subscribed, and strikes that left
the window are dropped unless a position is held in them. ATM is therefore always well inside what is
subscribed, and its quotes have been streaming for minutes before a strategy picks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engines.market.instruments import Instrument, InstrumentMaster, OptionChain
from engines.money import Paise


@dataclass(frozen=True, slots=True)
class Change:
    subscribe: list[Instrument]
    unsubscribe: list[Instrument]
    note: dict[str, Any]  # what moved, for the journal

    def __bool__(self) -> bool:
        return bool(self.subscribe or self.unsubscribe)


NO_CHANGE = Change([], [], {})


class Universe(Protocol):
    indices: dict[str, Instrument]  # the index of each underlying it follows (none for a fixed universe)

    def initial(self) -> list[Instrument]:
        """What to subscribe at the start of the day."""
        ...

    def update(self, spot: dict[str, Paise], held: set[str]) -> Change:
        """Follow the market at a minute boundary: `spot` is each index's last price, `held` the symbols
        with open positions."""
        ...

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> list[Instrument]:
        """Load a snapshot; returns what it had subscribed."""
        ...


class FixedUniverse:
    def __init__(self, instruments: Sequence[Instrument]) -> None:
        self._instruments = list(instruments)
        self.indices: dict[str, Instrument] = {}

    def initial(self) -> list[Instrument]:
        return list(self._instruments)

    def update(self, spot: dict[str, Paise], held: set[str]) -> Change:
        return NO_CHANGE

    def snapshot(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any]) -> list[Instrument]:
        return list(self._instruments)


class OptionsUniverse:
    def __init__(self, master: InstrumentMaster, underlyings: Sequence[str], strikes_each_side: int) -> None:
        self.indices = {u: master.index(u) for u in underlyings}
        self.chains: dict[str, OptionChain] = {u: master.chain(u) for u in underlyings}
        self._each_side = strikes_each_side
        self._centre: dict[str, Paise] = {}  # underlying -> the window's centre strike
        self._master = master

    def initial(self) -> list[Instrument]:
        return list(self.indices.values())  # the chains follow once the indices have a price

    def window(self, underlying: str) -> list[Instrument]:
        centre = self._centre.get(underlying)
        return [] if centre is None else self.chains[underlying].window(centre, self._each_side)

    def update(self, spot: dict[str, Paise], held: set[str]) -> Change:
        subscribe: list[Instrument] = []
        unsubscribe: list[Instrument] = []
        moved: dict[str, Any] = {}
        for underlying, chain in self.chains.items():
            level = spot.get(underlying)
            if not level or not chain.strikes:
                continue
            atm = chain.nearest_strike(level)
            centre = self._centre.get(underlying)
            if centre is not None and abs(chain.strikes.index(atm) - chain.strikes.index(centre)) <= max(
                1, self._each_side // 2
            ):
                continue
            before = {i.token: i for i in self.window(underlying)}
            self._centre[underlying] = atm
            after = {i.token: i for i in self.window(underlying)}
            subscribe += [i for t, i in after.items() if t not in before]
            unsubscribe += [i for t, i in before.items() if t not in after and i.symbol not in held]
            moved[underlying] = {"centre_strike_paise": atm, "spot_paise": level}
        return Change(subscribe, unsubscribe, moved) if moved else NO_CHANGE

    def snapshot(self) -> dict[str, Any]:
        return {"centres": dict(self._centre)}

    def restore(self, state: dict[str, Any]) -> list[Instrument]:
        self._centre = {u: int(c) for u, c in state["centres"].items()}
        return [*self.indices.values(), *(i for u in self.chains for i in self.window(u))]
