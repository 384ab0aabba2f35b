"""The forecast horizon a database was made for: checked whenever a store sets up, changed only on request.

distributions has one column per step (day_1..day_H) and forecast_metadata
columns for the steps of schema.metadata_horizons(H); point_forecasts and
forecast_scores hold H rows per forecast. Tables made for one horizon cannot
hold forecasts of another, so a store whose horizon differs from its tables'
refuses to set up (HorizonMismatchError, naming both horizons and the way
out) instead of dropping steps or leaving them NULL.

Changing the horizon is explicit: `forecast-assets migrate-horizon` says how
many rows it would remove, and with `--yes` drops the forecast and score
tables (RESHAPED) and creates them again for the new horizon. unified_data
and trained_models are kept; a model trained for a smaller horizon than asked
(xgboost) is refused at forecast time with a message to train it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from forecast_assets.storage.base import ForecastStore, StorageError
from forecast_assets.storage.schema import (HORIZON_TABLES, METADATA_METRICS, day_columns, metadata_columns,
                                            metadata_horizons, qualified)

# Every table whose rows are per step of the horizon (or computed from such rows).
RESHAPED = ("distributions", "point_forecasts", "forecast_scores", "forecast_metadata", "model_performance")
KEPT = ("unified_data", "trained_models")

_DAY_RE = re.compile(r"^day_(\d+)$")
_METADATA_RE = re.compile(rf"^(?:{'|'.join(METADATA_METRICS)})_(\d+)d$")


class HorizonMismatchError(StorageError):
    """The database's forecast tables were made for another horizon than the one configured."""


def _steps(cols: list[str], pattern: re.Pattern) -> list[int]:
    return [int(m.group(1)) for c in cols if (m := pattern.match(c))]


def stored_horizon(live: dict[str, list[str]]) -> int | None:
    """The horizon the tables were made for, from their columns (None: no such table yet).

    `live` maps distributions and forecast_metadata to their columns as stored. The
    largest step either table names is its horizon (day_H; metrics at step H).
    """
    steps = _steps(live.get("distributions", []), _DAY_RE) + _steps(live.get("forecast_metadata", []), _METADATA_RE)
    return max(steps) if steps else None


def mismatch(live: dict[str, list[str]], horizon: int) -> str | None:
    """What in the stored columns disagrees with `horizon`, or None when they fit it."""
    problems = []
    if "distributions" in live:
        have = [c for c in live["distributions"] if _DAY_RE.match(c)]
        if have != day_columns(horizon):
            shown = f"{have[0]}..{have[-1]}" if len(have) > 2 else ", ".join(have) or "no day columns"
            problems.append(f"distributions has {shown} where horizon {horizon} needs day_1..day_{horizon}")
    if "forecast_metadata" in live:
        have = [c for c in live["forecast_metadata"] if _METADATA_RE.match(c)]
        if have != metadata_columns(horizon):
            steps = ", ".join(map(str, dict.fromkeys(_steps(have, _METADATA_RE))))
            needs = ", ".join(map(str, metadata_horizons(horizon)))
            problems.append(f"forecast_metadata scores {f'steps {steps}' if steps else 'no steps'} where horizon "
                            f"{horizon} needs {needs}")
    return "; ".join(problems) or None


def check_horizon(live: dict[str, list[str]], horizon: int, where: str) -> None:
    """Raise HorizonMismatchError when the stored tables were made for another horizon."""
    problem = mismatch(live, horizon)
    if problem is None:
        return
    made = stored_horizon(live)
    made_text = f"a horizon of {made} steps" if made is not None else "another horizon"
    raise HorizonMismatchError(
        f"{where}: the forecast tables were made for {made_text}, but FORECAST_HORIZON is {horizon} ({problem}). "
        f"Tables of one horizon cannot hold forecasts of another, and nothing is dropped or truncated on its "
        f"own: {f'set FORECAST_HORIZON={made} to use them as they are, or ' if made is not None else ''}"
        f"run `forecast-assets migrate-horizon` "
        f"(with FORECAST_HORIZON={horizon}) to see what moving to {horizon} removes, then "
        f"`forecast-assets migrate-horizon --yes` to drop and recreate {', '.join(RESHAPED)} "
        f"({' and '.join(KEPT)} are kept)")


def check_batch(distributions: pa.Table, horizon: int) -> None:
    """A batch of distribution rows must carry exactly the store's day columns (a shorter one would leave
    steps NULL, a longer one lose them)."""
    have = [c for c in distributions.column_names if _DAY_RE.match(c)]
    if have != day_columns(horizon):
        raise StorageError(f"distribution rows have {len(have)} day columns but the tables hold a horizon of "
                           f"{horizon}: forecast with FORECAST_HORIZON={horizon}")


@dataclass
class Migration:
    """What changing a database's horizon removes (rows per table), and whether it was done."""

    stored: int | None
    horizon: int
    rows: dict[str, int]
    done: bool

    @property
    def needed(self) -> bool:
        return self.stored is not None and self.stored != self.horizon

    def report(self, where: str) -> str:
        if self.stored is None:
            return f"{where}: no forecast tables yet; they will be made for horizon {self.horizon}"
        if not self.needed:
            return f"{where}: the forecast tables are already made for horizon {self.horizon}; nothing to do"
        lines = [f"{where}: the forecast tables were made for horizon {self.stored}; FORECAST_HORIZON is "
                 f"{self.horizon}.",
                 f"{'dropped and recreated' if self.done else 'migrating drops and recreates'} for horizon "
                 f"{self.horizon}:"]
        width = max(len(qualified(t)) for t in self.rows)
        lines += [f"  {qualified(t):<{width}}  {n:>12,} rows" for t, n in self.rows.items()]
        lines.append(f"kept: {', '.join(qualified(t) for t in KEPT)} (a trained xgboost model serves horizons up "
                     f"to the one it was trained for; forecasting more is refused with a message to retrain it)")
        if self.done:
            lines.append("done. Forecast and score the days you need again (materialize forecasts/*, actuals and "
                         "forecast_metadata); Dagster still lists their old materializations, whose rows are gone.")
        else:
            lines.append("nothing changed: run again with --yes to do it")
        return "\n".join(lines)


def migrate(store: ForecastStore, yes: bool = False) -> Migration:
    """Move the store's database to the store's horizon: count the rows it removes; with `yes`, drop
    the RESHAPED tables and create them again (ensure_schema). A no-op when the horizons agree."""
    live = store.live_columns(HORIZON_TABLES)
    stored = stored_horizon(live)
    rows = store.count_rows(RESHAPED) if stored is not None and stored != store.horizon else {}
    plan = Migration(stored, store.horizon, rows, False)
    if yes and plan.needed:
        store.drop_tables(RESHAPED)
        store.ensure_schema()
        plan.done = True
    return plan
