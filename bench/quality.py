"""Forecast quality of stored forecasts: 95% coverage and mean CRPS per commodity and model.

Scores every stored day (scoring.score_days, weekday starts as in model_performance) and
averages over every step (1..14 with the default horizon). Used by bench/perf.py after the
full workload, and runnable on its own against any database (FORECAST_HORIZON as it was made):

    python bench/quality.py DUCKDB_PATH START END [--out quality.csv]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta

import pandas as pd

from forecast_assets.config import Settings
from forecast_assets.runs import scoring
from forecast_assets.storage.duckdb_store import DuckDBStore


def quality(store, commodities, start: date, end: date, score: bool = True) -> pd.DataFrame:
    """Per commodity and model over [start, end]; score=False reuses scores already stored."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    if score:
        for c in commodities:
            scoring.score_days(store, c, days)
    perf = scoring.model_performance(store, start, end)
    return (perf.groupby(["commodity", "model_name"], as_index=False)
            .agg(coverage_95=("coverage_95", "mean"), crps=("crps", "mean"), n_forecasts=("n_forecasts", "max")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("duckdb_path")
    ap.add_argument("start")
    ap.add_argument("end")
    ap.add_argument("--commodities", default="Coffee,Sugar")
    ap.add_argument("--out")
    a = ap.parse_args()
    store = DuckDBStore(a.duckdb_path, horizon=Settings.from_env().horizon)
    q = quality(store, a.commodities.split(","), date.fromisoformat(a.start), date.fromisoformat(a.end))
    print(q.to_string(index=False))
    if a.out:
        q.to_csv(a.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
