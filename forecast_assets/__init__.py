"""forecast-assets: probabilistic commodity price forecasts as a Dagster code location.

`forecast_assets.core` is the forecasting core (no Dagster imports),
`forecast_assets.storage` the table backends, `forecast_assets.defs` the thin
Dagster layer, and `forecast_assets.definitions` the code location entry point.
"""
