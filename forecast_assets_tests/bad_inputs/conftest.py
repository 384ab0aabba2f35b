"""A small database that already holds data and forecasts, and a full dump of it to compare.

Every bad input is tried against a copy of the same database: Coffee and Sugar
from 2020-01-02 to 2025-02-28, a naive model trained for Coffee's 2024-07-01
window, its forecasts for DAYS, their actuals and scores. A rejected input must
leave every table (schema and rows) and every model artifact exactly as it was.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from forecast_assets.core.calendar import ICE_SOFTS, Calendar
from forecast_assets.runs import actuals, forecasting, scoring, training
from forecast_assets.config import Settings
from forecast_assets.core.sample import make_sample
from forecast_assets.storage.duckdb_store import DuckDBStore

WINDOW = date(2024, 7, 1)
NEXT_WINDOW = date(2025, 1, 1)
DAYS = [date(2024, 7, 8) + timedelta(days=i) for i in range(5)]
N_PATHS = 50


def db_settings(root: Path) -> Settings:
    return dataclasses.replace(Settings.from_env({}), duckdb_path=root / "forecast.duckdb",
                               artifact_dir=root / "artifacts", plot_dir=root / "plots", n_paths=N_PATHS)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("template")
    s = db_settings(root)
    store = DuckDBStore(s.duckdb_path)
    store.ensure_schema()
    store.replace_unified(make_sample(start=date(2020, 1, 2), end=date(2025, 2, 28)))
    training.train_windows(store, s, "naive", "Coffee", [WINDOW], "template")
    forecasting.forecast_days(store, s, "naive", "Coffee", DAYS)
    actuals.attach_actuals(store, "Coffee", DAYS, Calendar(ICE_SOFTS))
    scoring.score_days(store, "Coffee", DAYS)
    return root


@pytest.fixture
def db(template_db, tmp_path) -> tuple[DuckDBStore, Settings]:
    """A fresh copy of the template database (and its artifact folder)."""
    root = tmp_path / "db"
    shutil.copytree(template_db, root)
    s = db_settings(root)
    return DuckDBStore(s.duckdb_path), s


def run_sql(path: Path, statements: list[str]) -> None:
    """What another loader would do: plain SQL on the attached file."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS commodity", [str(path)])
        for stmt in statements:
            con.execute(stmt)
    finally:
        con.close()


def dump(settings: Settings, scratch: Path) -> dict[str, str]:
    """sha256 per table of its columns, types and every row (DuckDB's own CSV, rows sorted), and per artifact."""
    out: dict[str, str] = {}
    scratch.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS commodity (READ_ONLY)", [str(settings.duckdb_path)])
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_catalog = 'commodity' ORDER BY ALL").fetchall()
        for schema, name in tables:
            cols = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog "
                               "= 'commodity' AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                               [schema, name]).fetchall()
            csv = scratch / f"{schema}.{name}.csv"
            con.execute(f'COPY (SELECT * FROM commodity."{schema}"."{name}" ORDER BY ALL) TO \'{csv}\' (HEADER)')
            out[f"{schema}.{name}"] = hashlib.sha256(repr(cols).encode() + csv.read_bytes()).hexdigest()
    finally:
        con.close()
    if settings.artifact_dir.exists():
        for f in sorted(settings.artifact_dir.rglob("*")):
            if f.is_file():
                out[f"artifact {f.relative_to(settings.artifact_dir)}"] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out
