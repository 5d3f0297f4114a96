"""`session backtest`: the daily backtest by hand, over several days and parameter sets in parallel.

Modules: `plan` (the days and parameter sets, validated up front), `run` (joblib workers, the progress
bar, each run's report and the comparison across sets). Host side: it imports joblib and tqdm, which
the images do not carry.
"""
