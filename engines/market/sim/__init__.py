"""The built-in deterministic NSE market: a day's instrument master and a pull feed of its ticks."""

from engines.market.sim.feed import SimFeed
from engines.market.sim.market import MarketSimulator, SimSession

__all__ = ["MarketSimulator", "SimFeed", "SimSession"]
