"""`forecast-assets`: set up the tables, load data, and print what is stored.

    forecast-assets init                 create the catalog's tables (idempotent)
    forecast-assets load-sample          write the synthetic Coffee and Sugar sample into unified_data
    forecast-assets import PATH          merge your own daily history (CSV or Parquet) by date, all or nothing;
                                         --replace replaces the file's commodities, --allow-jumps accepts x2 moves
    forecast-assets summary              what the tables hold
    forecast-assets report               the model comparison (scores, skill vs naive) and pictures
    forecast-assets current-window       the start of the training window containing today
    forecast-assets migrate-horizon      what moving the tables to FORECAST_HORIZON removes; --yes does it
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from forecast_assets.config import ConfigError, Settings
from forecast_assets.core.importer import MAX_IMPORT_ROWS
from forecast_assets.core.input_rules import InputDataError
from forecast_assets.storage.base import StorageError
from forecast_assets.storage.duckdb_store import DatabaseNotWritableError, DuckDBStore
from forecast_assets.storage.schema import metadata_horizons, qualified


def _store(settings: Settings) -> DuckDBStore:
    store = DuckDBStore(settings.duckdb_path, horizon=settings.horizon)
    store.ensure_schema()
    return store


def _existing_store(settings: Settings) -> DuckDBStore:
    """The store of a command that reads what is there."""
    _require_database(settings)
    return _store(settings)


def _require_database(settings: Settings) -> None:
    """Refuse a missing database file rather than create an empty one wherever the command happens to run."""
    if not settings.duckdb_path.exists():
        raise ConfigError(
            f"no database at {settings.duckdb_path.resolve()}: run `make demo` (or `forecast-assets load-sample` / "
            f"`forecast-assets import FILE`) first, or point FORECAST_DUCKDB_PATH or FORECAST_DATA_DIR at one "
            f"(relative paths are from the current folder, {Path.cwd()})")


def _table(df: pd.DataFrame) -> str:
    """A frame as a plain text table (dates as dates), or '(empty)'."""
    if df.empty:
        return "(empty)"
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = df[c].dt.strftime("%Y-%m-%d")
    return tabulate(df, headers="keys", showindex=False, tablefmt="simple", intfmt=",", floatfmt=".4g")


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
    from forecast_assets.core.import_guards import check_names_against
    from forecast_assets.core.importer import ImportValidationError, prepare_unified, read_table
    from forecast_assets.core.merge import merge_plan, replace_report

    table = qualified("unified_data")
    source = str(args.path)
    try:
        # The file alone first (nothing opened), then against what is stored; all before any write.
        # A merge may add a few days: the history rule (60 trading days) is checked on the merged result.
        provenance: dict = {}
        df, notes = prepare_unified(read_table(args.path, max_rows=args.max_rows), source=source,
                                    max_rows=args.max_rows, allow_jumps=args.allow_jumps, provenance=provenance,
                                    **({} if args.replace else {"min_trading_days": 1}))
        commodities = sorted(df["commodity"].unique())
        store = _store(settings)
        stored_names = store.unified_commodities()
        check_names_against(commodities, stored_names, source, table)
        check_names_against(commodities, settings.commodities, source, "FORECAST_COMMODITIES")
        stored = [store.read_unified(c) for c in commodities if c in stored_names]
        stored = pd.concat(stored, ignore_index=True) if stored else df.iloc[0:0]
        if args.replace:
            report = replace_report(stored, df)
            n = store.replace_unified(df)
            how = f"replaced (--replace) the history of {', '.join(commodities)} in {table}:"
        else:
            plan = merge_plan(stored, df, provenance, source=source, table=table, allow_jumps=args.allow_jumps)
            report = plan.report()
            n = store.merge_unified(plan.rows)
            how = (f"merged into {table} (the file's dates inserted or updated, other dates kept; "
                   f"--replace replaces a commodity's history):")
    except (ImportValidationError, StorageError) as exc:
        print(f"import rejected, nothing written: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {note}")
    print(how)
    for line in report:
        print(f"  {line}")
    print(f"imported {n:,} rows for {', '.join(commodities)} into {table}")
    missing = [c for c in commodities if c not in settings.commodities]
    if missing:
        print(f"to forecast them, add them to FORECAST_COMMODITIES (now {','.join(settings.commodities)}), "
              f"e.g. FORECAST_COMMODITIES={','.join(dict.fromkeys([*settings.commodities, *missing]))}")
    return 0


def cmd_summary(settings: Settings, args) -> int:
    _require_database(settings)
    try:
        store, mode = _store(settings), ""
    except DatabaseNotWritableError:  # reading needs no write: open the file read-only
        store = DuckDBStore(settings.duckdb_path, horizon=settings.horizon, read_only=True)
        mode = " (not writable: opened read-only)"
    print(f"database: {settings.duckdb_path.resolve()}{mode}")
    print(f"model artifacts: {settings.artifact_dir.resolve()}\n")
    print(f"{qualified('unified_data')}:\n{_table(store.unified_summary())}\n")
    print(f"{qualified('trained_models')}:\n{_table(store.trained_models_summary())}\n")
    print(f"{qualified('distributions')} / {qualified('point_forecasts')}:\n{_table(store.forecasts_summary())}")
    return 0


def cmd_report(settings: Settings, args) -> int:
    from forecast_assets.core import comparison
    from forecast_assets.runs import pictures, scoring

    store = _existing_store(settings)
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
    print(f"model comparison ({args.start or 'first'} .. {args.end or 'last'} scored forecast, one per session; "
          f"scored as {args.vintage}: {as_of}; "
          f"skill = 1 - CRPS / CRPS of naive; dm_pvalue: Diebold-Mariano vs naive)\n")
    print(comparison.comparison_table(perf, horizons))
    written = pictures.write_pictures(store, settings.plot_dir, perf)
    if written:
        print(f"\npictures in {settings.plot_dir.resolve()}:")
        for p in written.values():
            print(f"  {p.name}")
    return 0


def cmd_current_window(settings: Settings, args) -> int:
    """The start of the semiannual window containing today in the schedules' time zone: `make demo` trains it,
    so daily_inference works the day after."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from forecast_assets.core.calendar import window_start
    from forecast_assets.defs.partitions import TIMEZONE

    print(window_start(datetime.now(ZoneInfo(TIMEZONE)).date()).isoformat())
    return 0


def cmd_migrate_horizon(settings: Settings, args) -> int:
    from forecast_assets.storage.horizon import migrate

    if settings.env == "databricks":
        from forecast_assets.storage.databricks_sql import DatabricksSQLStore

        store = DatabricksSQLStore.from_settings(settings)
        where = f"Databricks catalog {store.catalog}"
    else:
        _require_database(settings)
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
    p.add_argument("--replace", action="store_true",
                   help="replace the whole stored history of the file's commodities (default: merge by date)")
    p.add_argument("--allow-jumps", action="store_true",
                   help="accept one-day close moves beyond x2 or /2 (refused by default as likely typos)")
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
    sub.add_parser("current-window", help="print the start of the window containing today (the schedules' "
                   "time zone)").set_defaults(fn=cmd_current_window)
    p = sub.add_parser("migrate-horizon", help="move the forecast tables to FORECAST_HORIZON (drops their rows)")
    p.add_argument("--yes", action="store_true", help="do it: drop and recreate the forecast and score tables")
    p.set_defaults(fn=cmd_migrate_horizon)
    args = parser.parse_args(argv)
    try:
        return args.fn(Settings.from_env(), args)
    except DatabaseNotWritableError as exc:  # one line, with what was being done
        print(f"error: {args.command}: {exc}", file=sys.stderr)
        return 2
    except (ConfigError, StorageError, InputDataError) as exc:  # bad settings, storage, or bad rows in the table
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
