"""The run layer: what a run does, over the storage interface, with no Dagster.

training      fit a model per semiannual window and store it
loading       read a stored model back (artifacts: the files of large ones)
plan          which days of which windows a forecast run computes, and what it skips
forecasting   the local engine: execute a plan in this process
spark         the Spark engine: execute the same plan on a cluster
actuals       realized closes of each forecast's steps
scoring       per-forecast scores, forecast_metadata, model_performance
checks        checks on stored forecasts, read back from the tables
pictures      fan charts, CRPS by horizon, PIT histograms

The Dagster assets, the CLI, the benchmarks and the tests call these.
"""
