"""Kite Connect at Paperfleet's edge: the REST side (login, token, dump, history, limits), the live
feed (wire.py, feed.py), and an emulator to test both offline.

    secrets      secrets/kite.yaml: api_key, api_secret, the day's access token and its 06:00 IST expiry
    rest         the REST calls, through the official client, behind ratelimit's shared limits
    ratelimit    Kite's per-key limits (quote 1/s, historical 3/s, other 10/s) across processes and containers
    instruments  the day's instrument dump: downloaded once, cached in the artifacts, read as the master
    history      warm-up minute bars from the sessions before the day, cached for the day
    wire         the ticker's binary packet layouts, and a numpy parser of whole frames
    feed         the live feed: one KiteTicker connection per process (TickerHub), a KiteFeed per engine
    market       KiteMarket, the live MarketSource
    errors       KiteError, KiteTokenError (run `session login`), KiteUnreachable
    emulator/    Kite's wire protocol on loopback, fed by the simulator, to test all of this offline
"""
