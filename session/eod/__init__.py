"""The end-of-day job: `python -m session.eod --date YYYY-MM-DD` turns the day's artifacts into
reports/daily/<date>.json and .md (docs/eod-report.md documents every key).

Modules: `inputs` reads and validates the artifacts, `stats` is the one pure function computing the
figures, `render` writes the Markdown, `__main__` is the command line. The job runs in the slim
engine image, so it imports only the standard library, pandas/numpy and `engines.*`.
"""
