"""The thin Dagster layer: partitions, resources, asset factories, checks, schedules, automation.

No forecasting logic here: assets turn partition keys into days and windows
and call forecast_assets.pipeline.
"""
