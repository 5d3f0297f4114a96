"""The end-of-day job: `python -m session.eod --date YYYY-MM-DD` turns the day's artifacts into
reports/daily/<date>.json, .md and charts (docs/eod-report.md documents every key).

    inputs (read, validate) -> analytics (pure tables) -> report (the dict) -> render, charts, summary
                            -> backtest (engines.backtest over the day) -> diff (order by order)

`events` finds the notable journal events and how the day ended; `__main__` is the command line. The job
runs in the slim engine image: it imports the standard library, pandas/numpy, matplotlib and
`engines.*`, never the host side (`session backtest`, in session/backtest/, adds joblib and tqdm).
"""
