"""Commodity x semiannual window for trained models, commodity x day for forecasts, and the mapping between them.

Multi-partition keys order dimensions alphabetically: 'Coffee|2024-01-01'.
"""

from dataclasses import dataclass
from datetime import date

import dagster as dg

from forecast_assets.config import Settings
from forecast_assets.core.calendar import window_start

TIMEZONE = "America/Los_Angeles"
SEMIANNUAL_CRON = "0 0 1 1,7 *"  # definitions.py gives it the fast window lookup (lib/dagster_patches)


@dataclass(frozen=True)
class Partitions:
    commodity: dg.StaticPartitionsDefinition
    window: dg.TimeWindowPartitionsDefinition
    day: dg.DailyPartitionsDefinition
    model: dg.MultiPartitionsDefinition  # commodity x window
    forecast: dg.MultiPartitionsDefinition  # commodity x date
    day_to_window: dg.MultiPartitionMapping


def build_partitions(settings: Settings) -> Partitions:
    commodity = dg.StaticPartitionsDefinition(list(settings.commodities))
    # end_offset=1: the window (and the day) in progress exist, so today can be forecast.
    window = dg.TimeWindowPartitionsDefinition(
        start=window_start(settings.start_date).isoformat(), fmt="%Y-%m-%d", cron_schedule=SEMIANNUAL_CRON,
        timezone=TIMEZONE, end_offset=1)
    day = dg.DailyPartitionsDefinition(start_date=settings.start_date.isoformat(), timezone=TIMEZONE, end_offset=1)
    # Without an explicit mapping Dagster maps a day to no window at all (docs/decisions.md).
    mapping = dg.MultiPartitionMapping({
        "commodity": dg.DimensionPartitionMapping("commodity", dg.IdentityPartitionMapping()),
        "window": dg.DimensionPartitionMapping("date", dg.TimeWindowPartitionMapping()),
    })
    return Partitions(
        commodity=commodity, window=window, day=day,
        model=dg.MultiPartitionsDefinition({"commodity": commodity, "window": window}),
        forecast=dg.MultiPartitionsDefinition({"commodity": commodity, "date": day}),
        day_to_window=mapping,
    )


def split_keys(keys) -> dict[str, list[date]]:
    """'Coffee|2024-01-01' keys of a run, grouped by commodity, as dates."""
    out: dict[str, list[date]] = {}
    for k in keys:
        commodity, day = str(k).split("|")
        out.setdefault(commodity, []).append(date.fromisoformat(day))
    return {c: sorted(ds) for c, ds in out.items()}
