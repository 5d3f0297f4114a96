"""A Kite Connect emulator: Kite's REST API and KiteTicker WebSocket, on the wire, fed by the simulator.

The live Kite feed is tested against it with the official client and real sockets, offline. Run it with
`python -m engines.kite.emulator --credentials FILE` (see cli.py), or in-process with `KiteEmulator`.
Modules: config, auth, envelope, rest, candles, tape, packets, ticker, faults, reqlog, server, facade, cli.
"""

from engines.kite.emulator.config import Credentials, EmulatorConfig, load_credentials
from engines.kite.emulator.facade import KiteEmulator
from engines.kite.emulator.faults import Fault
from engines.kite.emulator.server import EmulatorServer

__all__ = ["Credentials", "EmulatorConfig", "EmulatorServer", "Fault", "KiteEmulator", "load_credentials"]
