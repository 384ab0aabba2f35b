"""`forecast-assets`: set up the tables, load data, and print what is stored.

    forecast-assets init                 create the catalog's tables (idempotent)
    forecast-assets load-sample          write the synthetic Coffee and Sugar sample into unified_data
    forecast-assets import PATH          load your own daily history (CSV or Parquet), all or nothing
    forecast-assets summary              what the tables hold
    forecast-assets report               the model comparison (scores, skill vs naive) and pictures
    forecast-assets migrate-horizon      what moving the tables to FORECAST_HORIZON removes; --yes does it
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

import pandas as pd

from forecast_assets.config import ConfigError, Settings
from forecast_assets.core.importer import MAX_IMPORT_ROWS
from forecast_assets.core.input_rules import InputDataError
from forecast_assets.storage.base import StorageError
from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets.storage.schema import metadata_horizons, qualified


def _store(settings: Settings) -> DuckDBStore:
    store = DuckDBStore(settings.duckdb_path, horizon=settings.horizon)
    store.ensure_schema()
    return store


def cmd_init(settings: Settings, args) -> int:
    _store(settings)
    print(f"tables ready in {settings.duckdb_path}")
    return 0


def cmd_load_sample(settings: Settings, args) -> int:
    from forecast_assets.core.importer import validate_unified
    from forecast_assets.core.sample import make_sample

    end = date.fromisoformat(args.end) if args.end else None
    extra = {"start": date.fromisoformat(args.start)} if args.start else {}
    df = make_sample(end=end, commodities=tuple(args.commodities.split(",")) if args.commodities
                     else settings.commodities, **extra)
    validate_unified(df)
    n = _store(settings).replace_unified(df)
    print(f"wrote {n:,} rows of SYNTHETIC sample data ({', '.join(sorted(df['commodity'].unique()))}, "
          f"{df['date'].min():%Y-%m-%d} to {df['date'].max():%Y-%m-%d}) to {qualified('unified_data')} "
          f"in {settings.duckdb_path}")
    return 0


def cmd_import(settings: Settings, args) -> int:
    from forecast_assets.core.importer import ImportValidationError, prepare_unified, read_table

    try:
        df, notes = prepare_unified(read_table(args.path, max_rows=args.max_rows), source=str(args.path),
                                    max_rows=args.max_rows)
    except ImportValidationError as exc:
        print(f"import rejected, nothing written: {exc}", file=sys.stderr)
        return 2
    n = _store(settings).replace_unified(df)
    for note in notes:
        print(f"note: {note}")
    commodities = sorted(df["commodity"].unique())
    print(f"imported {n:,} rows for {', '.join(commodities)} into {qualified('unified_data')}")
    missing = [c for c in commodities if c not in settings.commodities]
    if missing:
        print(f"to forecast them, add them to FORECAST_COMMODITIES (now {','.join(settings.commodities)}), "
              f"e.g. FORECAST_COMMODITIES={','.join(dict.fromkeys([*settings.commodities, *missing]))}")
    return 0


def cmd_summary(settings: Settings, args) -> int:
    store = _store(settings)
    print(f"database: {settings.duckdb_path.resolve()}")
    print(f"model artifacts: {settings.artifact_dir.resolve()}\n")
    print(f"{qualified('unified_data')}:")
    print(store.unified_summary().to_string(index=False), "\n")
    tm = store.trained_models_summary()
    print(f"{qualified('trained_models')}:\n{tm.to_string(index=False) if len(tm) else '(empty)'}\n")
    fc = store.forecasts_summary()
    print(f"{qualified('distributions')} / {qualified('point_forecasts')}:")
    print(fc.to_string(index=False) if len(fc) else "(empty)")
    return 0


def cmd_report(settings: Settings, args) -> int:
    from forecast_assets.core import comparison
    from forecast_assets.runs import pictures, scoring

    store = _store(settings)
    if args.score:
        days = store.forecasts_summary().groupby("commodity").agg(a=("first_day", "min"), b=("last_day", "max"))
        for c, a, b in days.itertuples():
            scoring.score_days(store, c, [d.date() for d in pd.date_range(a, b, freq="D")])
    start = date.fromisoformat(args.start) if args.start else None
    end = date.fromisoformat(args.end) if args.end else None
    perf = scoring.model_performance(store, start, end, scored_as=args.vintage)
    horizons = (tuple(int(h) for h in args.horizons.split(",")) if args.horizons
                else metadata_horizons(settings.horizon))
    as_of = ("each day's latest vintage" if args.vintage == "latest"
             else "each day's first vintage, as first published")
    print(f"model comparison ({args.start or 'first'} .. {args.end or 'last'} scored forecast, weekday starts; "
          f"scored as {args.vintage}: {as_of}; "
          f"skill = 1 - CRPS / CRPS of naive; dm_pvalue: Diebold-Mariano vs naive)\n")
    print(comparison.comparison_table(perf, horizons))
    written = pictures.write_pictures(store, settings.plot_dir, perf)
    if written:
        print(f"\npictures in {settings.plot_dir.resolve()}:")
        for p in written.values():
            print(f"  {p.name}")
    return 0


def cmd_migrate_horizon(settings: Settings, args) -> int:
    from forecast_assets.storage.horizon import migrate

    if settings.env == "databricks":
        from forecast_assets.storage.databricks_sql import DatabricksSQLStore

        store = DatabricksSQLStore.from_settings(settings)
        where = f"Databricks catalog {store.catalog}"
    else:
        store, where = DuckDBStore(settings.duckdb_path, horizon=settings.horizon), str(settings.duckdb_path)
    print(migrate(store, yes=args.yes).report(where))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="forecast-assets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create the tables").set_defaults(fn=cmd_init)
    p = sub.add_parser("load-sample", help="write the synthetic sample into unified_data")
    p.add_argument("--end", help="last day (YYYY-MM-DD); default yesterday")
    p.add_argument("--start", help="first day (YYYY-MM-DD); default 2015-07-07")
    p.add_argument("--commodities", help="comma-separated; default FORECAST_COMMODITIES")
    p.set_defaults(fn=cmd_load_sample)
    p = sub.add_parser("import", help="load a CSV or Parquet daily history into unified_data")
    p.add_argument("path")
    p.add_argument("--max-rows", type=int, default=MAX_IMPORT_ROWS,
                   help=f"refuse a file with more data rows (default {MAX_IMPORT_ROWS:,}; ~1.4 kB of memory each)")
    p.set_defaults(fn=cmd_import)
    sub.add_parser("summary", help="print what the tables hold").set_defaults(fn=cmd_summary)
    p = sub.add_parser("report", help="print the model comparison and write the pictures")
    p.add_argument("--start", help="first forecast day of the period (YYYY-MM-DD)")
    p.add_argument("--end", help="last forecast day of the period (YYYY-MM-DD)")
    p.add_argument("--horizons", help="steps to print (default: those forecast_metadata scores, 1,7,14 for 14)")
    p.add_argument("--score", action="store_true", help="(re)score every stored forecast first")
    p.add_argument("--vintage", choices=("latest", "first"), default="latest",
                   help="score each day's latest vintage (default) or its first, as first published")
    p.set_defaults(fn=cmd_report)
    p = sub.add_parser("migrate-horizon", help="move the forecast tables to FORECAST_HORIZON (drops their rows)")
    p.add_argument("--yes", action="store_true", help="do it: drop and recreate the forecast and score tables")
    p.set_defaults(fn=cmd_migrate_horizon)
    args = parser.parse_args(argv)
    try:
        return args.fn(Settings.from_env(), args)
    except (ConfigError, StorageError, InputDataError) as exc:  # bad settings, storage, or bad rows in the table
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
