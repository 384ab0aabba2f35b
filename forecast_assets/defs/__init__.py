"""The thin Dagster layer: partitions, resources, asset factories, checks, schedules, automation;
environments.py holds what FORECAST_ENV changes.

No forecasting logic here: assets turn partition keys into days and windows
and call forecast_assets.runs.forecasting.
"""

import warnings

import dagster as dg

# Beta/preview APIs used on purpose (multi-partition mapping, single-run backfills,
# observable source assets, pools); dagster is pinned, so the warnings are only noise.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
