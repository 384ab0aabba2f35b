"""The embedded backend: one DuckDB file attached as catalog `commodity`.

The file is attached for one operation only (or one group of quick reads:
one_connection). DuckDB lets one process hold the file at a time, so a second
process (another run, the UI) waits: attaching is retried with backoff while
the file is locked, and after lock_timeout_s fails with DatabaseLockedError,
which says so. Each thread attaches to an in-memory DuckDB of its own, kept
between operations: creating one costs ~11 ms, attaching the file to it ~1 ms.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pandas as pd
import pyarrow as pa
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential_jitter

from forecast_assets.config import DEFAULT_HORIZON
from forecast_assets.core.data import FX_RE
from forecast_assets.core.input_rules import check_table_schema, conform_frame
from forecast_assets.storage import sql
from forecast_assets.storage.base import ForecastStore, StorageError, paths_by_day
from forecast_assets.storage.horizon import check_batch, check_horizon
from forecast_assets.storage.schema import (CATALOG, FORECAST, SILVER, TABLES, columns, day_columns,
                                            missing_added, qualified)

UNIFIED = qualified("unified_data")
MODELS = qualified("trained_models")
DIST = qualified("distributions")
POINTS = qualified("point_forecasts")


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


class DatabaseLockedError(StorageError):
    """Another process kept the DuckDB file for longer than this one would wait."""


class DatabaseNotWritableError(StorageError):
    """The DuckDB file (or its folder, where DuckDB writes its .wal) cannot be written: nothing was written."""


# What the OS says when a file or folder cannot be written (chmod, chattr +i, a read-only mount).
_NOT_WRITABLE = ("permission denied", "operation not permitted", "read-only file system")


def _not_writable(exc: BaseException) -> bool:
    return any(t in str(exc).lower() for t in _NOT_WRITABLE)


@functools.cache  # ensure_schema runs in every step; the DDL only changes with the horizon (and the code)
def _schema_mark(horizon: int) -> str:
    """A hash of every statement ensure_schema runs for this horizon, kept as the vintage views' comment:
    when a view carries it, the tables and views are those this code makes (a changed definition changes
    the hash; CREATE OR REPLACE clears the comment)."""
    ddl = [sql.create_table(t, CATALOG, horizon) for t in TABLES] + [
        sql.create_vintage_view(t, CATALOG, w) for t in ("distributions", "point_forecasts")
        for w in sql.VINTAGE_VIEWS]
    return hashlib.sha256("\n".join(ddl).encode()).hexdigest()[:16]


class DuckDBStore(ForecastStore):
    def __init__(self, path: str | Path, lock_timeout_s: float = 300.0, *, horizon: int = DEFAULT_HORIZON,
                 read_only: bool = False):
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s
        self.horizon = horizon
        self.read_only = read_only  # ATTACH ... (READ_ONLY): reads of a file this user cannot write
        # Per thread (a DuckDB connection is not shared between threads): `instance`, the in-memory
        # database the file is attached to, with `pid`, the process that made it; `con`, one_connection's.
        self._held = threading.local()

    def _unwritable(self, why: str, exc: BaseException | None = None) -> DatabaseNotWritableError:
        said = f" (the system said: {exc})" if exc is not None else ""
        return DatabaseNotWritableError(
            f"cannot write the database {self.path}: {why}{said}; nothing was written. Make it writable "
            f"(chmod u+w, or chattr -i where it is immutable) or set FORECAST_DUCKDB_PATH to a file in a "
            f"writable folder; `forecast-assets summary` still reads it")

    def check_writable(self) -> None:
        """Refuse before any write when the file or its folder cannot be written. os.access asks the kernel,
        so it also sees what chmod does not stop for root (chattr +i, a read-only mount)."""
        folder = self.path.parent
        if self.path.exists():
            if not os.access(self.path, os.W_OK):
                raise self._unwritable("the file is read-only")
            if not os.access(folder, os.W_OK):  # DuckDB writes <file>.wal next to it on every commit
                raise self._unwritable(f"its folder {folder} is read-only (DuckDB writes {self.path.name}.wal there)")
        else:
            parent = next((p for p in [folder, *folder.parents] if p.exists()), None)
            if parent is None or not os.access(parent, os.W_OK):
                raise self._unwritable(f"the folder {parent} cannot be written, so the file cannot be created")

    @classmethod
    def from_settings(cls, settings) -> "DuckDBStore":
        return cls(settings.duckdb_path, horizon=settings.horizon)

    # -- connections -------------------------------------------------------
    def _open(self) -> duckdb.DuckDBPyConnection:
        @retry(retry=retry_if_exception(_locked), stop=stop_after_delay(self.lock_timeout_s),
               # Another process holds the file for one short operation (~10-50 ms): poll from 10 ms,
               # doubling to 0.25 s. (tenacity's default jitter of up to 1 s made every wait the 0.5 s cap.)
               wait=wait_exponential_jitter(multiplier=0.01, max=0.25, jitter=0.01), reraise=True)
        def attach():
            con = self._instance()
            con.execute(f"ATTACH ? AS {CATALOG}{' (READ_ONLY)' if self.read_only else ''}", [str(self.path)])
            return con

        if self.read_only:
            if not self.path.is_file():  # (the explorer) say so, rather than DuckDB's error for a missing file
                raise StorageError(f"no database at {self.path}: nothing to read (run `make demo`, or set "
                                   f"FORECAST_DUCKDB_PATH / FORECAST_DATA_DIR to where the forecasts are)")
        else:
            self.check_writable()
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return attach()
        except duckdb.IOException as exc:
            if _not_writable(exc):
                raise self._unwritable("it cannot be opened for writing", exc) from None
            if not _locked(exc):
                raise
            raise DatabaseLockedError(
                f"the database {self.path} is locked by another process and stayed locked for "
                f"{self.lock_timeout_s:g} s (another run, `forecast-assets`, the UI or a notebook has it open). "
                f"DuckDB lets one process use the file at a time: retry when that process has finished. "
                f"DuckDB said: {exc}") from exc

    def _instance(self) -> duckdb.DuckDBPyConnection:
        """This thread's in-memory database, made once (in this process: a forked child makes its own)."""
        held = self._held
        if getattr(held, "instance", None) is None or held.pid != os.getpid():
            held.instance, held.pid = duckdb.connect(":memory:"), os.getpid()
        return held.instance

    def _release(self, con: duckdb.DuckDBPyConnection, clean: bool) -> None:
        """Let go of the file: DETACH checkpoints what was written and frees the lock for other processes.
        After an error the instance is closed instead (which does the same), so whatever the failed
        operation left in it (a registered table, an aborted transaction) is gone with it."""
        if clean:
            try:
                con.execute(f"DETACH {CATALOG}")
                return
            except duckdb.Error:
                pass
        if getattr(self._held, "instance", None) is con:
            self._held.instance = None
        con.close()

    @contextlib.contextmanager
    def one_connection(self) -> Iterator[None]:
        """The calls inside, on this thread, share one attach of the file (ForecastStore.one_connection)."""
        if getattr(self._held, "con", None) is not None:
            yield
            return
        self._held.con = self._open()
        clean = False
        try:
            yield
            clean = True
        finally:
            con, self._held.con = self._held.con, None
            self._release(con, clean)

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        held = getattr(self._held, "con", None)
        if held is not None:  # inside one_connection: its attach, left open for the next call
            yield held
            return
        con = self._open()
        clean = False
        try:
            yield con
            clean = True
        finally:
            self._release(con, clean)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.connect() as con:
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            try:
                con.commit()
            except duckdb.Error as exc:  # e.g. the .wal cannot be created: the transaction is rolled back
                if _not_writable(exc):
                    raise self._unwritable("the commit could not write it", exc) from None
                raise

    # -- schema ------------------------------------------------------------
    def _schema_current(self, con, mark: str) -> bool:
        live = self._live_columns(con, TABLES)
        if set(live) != set(TABLES) or any(missing_added(t, live[t]) for t in TABLES):
            return False
        check_horizon(live, self.horizon, str(self.path))
        comments = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE database_name = ?",
                                    [CATALOG]).fetchall())
        return all(comments.get(f"{t}_{w}") == mark for t in ("distributions", "point_forecasts")
                   for w in sql.VINTAGE_VIEWS)

    def ensure_schema(self) -> None:
        # Every step of a run calls this: a read of the catalog (~5 ms) when everything is in place, instead
        # of a write transaction that takes the file from the other runs and checkpoints (~25-60 ms).
        mark = _schema_mark(self.horizon)
        if self.path.exists():
            with self.connect() as con:
                if self._schema_current(con, mark):
                    return
        with self.transaction() as con:
            for schema in (SILVER, FORECAST):
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{schema}")
            for table in TABLES:
                con.execute(sql.create_table(table, CATALOG, self.horizon))
            live = self._live_columns(con, TABLES)
            check_horizon(live, self.horizon, str(self.path))
            for table in TABLES:  # a database made before a column was added gets it (old rows NULL)
                for column, sql_type in missing_added(table, live[table]):
                    con.execute(sql.add_column(table, CATALOG, column, sql_type))
            for table in ("distributions", "point_forecasts"):  # after the columns: a view binds them
                for which in sql.VINTAGE_VIEWS:
                    con.execute(sql.create_vintage_view(table, CATALOG, which))
                    con.execute(f"COMMENT ON VIEW {sql.vintage_view_name(table, CATALOG, which)} IS '{mark}'")

    @staticmethod
    def _live_columns(con, tables) -> dict[str, list[str]]:
        wanted = {tuple(qualified(t).split(".")[1:]): t for t in tables}  # (schema, table) -> name
        out: dict[str, list[str]] = {}
        for schema, table, column in con.execute(  # one query for all of them: ensure_schema runs per step
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE table_catalog = ? ORDER BY table_schema, table_name, ordinal_position", [CATALOG]).fetchall():
            if (schema, table) in wanted:
                out.setdefault(wanted[(schema, table)], []).append(column)
        return out

    def live_columns(self, tables) -> dict[str, list[str]]:
        with self.connect() as con:
            return self._live_columns(con, tables)

    def count_rows(self, tables) -> dict[str, int]:
        with self.connect() as con:
            live = self._live_columns(con, tables)
            return {t: (con.execute(f"SELECT COUNT(*) FROM {qualified(t)}").fetchone()[0] if t in live else 0)
                    for t in tables}

    def drop_tables(self, tables) -> None:
        with self.transaction() as con:
            for t in tables:
                con.execute(f"DROP TABLE IF EXISTS {qualified(t)}")

    # -- input -------------------------------------------------------------
    def read_unified(self, commodity, start=None, end=None) -> pd.DataFrame:
        where, params = ["commodity = ?"], [commodity]
        if start is not None:
            where.append("date >= ?")
            params.append(start)
        if end is not None:
            where.append("date <= ?")
            params.append(end)
        with self.connect() as con:
            # The table may have been filled by another loader: its columns and types are
            # checked before the query (a text date column would fail it), its rows after.
            check_table_schema(dict(con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
                "AND table_schema = ? AND table_name = 'unified_data'", [CATALOG, SILVER]).fetchall()), UNIFIED)
            df = con.execute(f"SELECT * FROM {UNIFIED} WHERE {' AND '.join(where)} ORDER BY date, region",
                             params).df()
        return conform_frame(df, UNIFIED)

    def unified_version(self) -> str:
        with self.connect() as con:
            rows = con.execute(sql.unified_row_hash(UNIFIED, "duckdb")).fetchall()
        return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]

    def unified_summary(self) -> pd.DataFrame:
        return self._read("unified_summary", sql.unified_summary(UNIFIED))

    def replace_unified(self, df: pd.DataFrame) -> int:
        fx = [c for c in df.columns if FX_RE.match(c)]
        wanted = columns("unified_data") + fx
        missing = [c for c in columns("unified_data") if c not in df.columns]
        if missing:
            raise StorageError(f"unified_data rows lack columns: {', '.join(missing)}")
        table = pa.Table.from_pandas(df[wanted], preserve_index=False)
        commodities = sorted(df["commodity"].unique())
        with self.transaction() as con:
            have = set(con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = ? "
                "AND table_name = 'unified_data'", [CATALOG, SILVER]).df()["column_name"])
            for c in fx:  # FX_RE-checked identifiers only
                if c not in have:
                    con.execute(f"ALTER TABLE {UNIFIED} ADD COLUMN {c} DOUBLE")
            con.register("incoming", table)
            con.execute(f"DELETE FROM {UNIFIED} WHERE commodity IN (SELECT UNNEST(?))", [commodities])
            con.execute(f"INSERT INTO {UNIFIED} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        return table.num_rows

    def merge_unified(self, df: pd.DataFrame) -> int:
        fx = [c for c in df.columns if FX_RE.match(c)]
        missing = [c for c in columns("unified_data") if c not in df.columns]
        if missing:
            raise StorageError(f"unified_data rows lack columns: {', '.join(missing)}")
        table = pa.Table.from_pandas(df[columns("unified_data") + fx], preserve_index=False)
        with self.transaction() as con:
            have = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = ? "
                "AND table_name = 'unified_data' ORDER BY ordinal_position", [CATALOG, SILVER]).fetchall()]
            for c in fx:  # FX_RE-checked identifiers only
                if c not in have:
                    con.execute(f"ALTER TABLE {UNIFIED} ADD COLUMN {c} DOUBLE")
                    have.append(c)
            con.register("incoming", table)
            con.execute(sql.merge_unified(UNIFIED, "incoming", table.column_names, have))
            con.unregister("incoming")
        return table.num_rows

    # -- trained models ----------------------------------------------------
    def write_trained_model(self, row: dict[str, Any]) -> None:
        self.write_trained_models([row])

    def write_trained_models(self, rows: list[dict[str, Any]]) -> None:
        # One transaction for a run's windows: each connection attaches the file and checkpoints it on
        # close, ~50 ms, which per window was ~4% of a training run (issue 17).
        cols = columns("trained_models")
        with self.transaction() as con:
            for row in rows:
                con.execute(
                    f"DELETE FROM {MODELS} WHERE commodity = ? AND model_name = ? AND model_version = ? "
                    f"AND window_start = ?",
                    [row["commodity"], row["model_name"], row["model_version"], row["window_start"]])
                con.execute(f"INSERT INTO {MODELS} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                            [row.get(c) for c in cols])

    def read_trained_model(self, commodity, model_name, model_version, window_start) -> dict | None:
        df = self._read("read_trained_model",
                        f"SELECT * FROM {MODELS} WHERE commodity = ? AND model_name = ? AND model_version = ? "
                        f"AND window_start = ?", [commodity, model_name, model_version, window_start])
        return None if df.empty else df.iloc[0].to_dict()

    def read_trained_models(self, commodity, model_name, model_version, windows) -> dict:
        df = self._read("read_trained_models",
                        f"SELECT * FROM {MODELS} WHERE commodity = ? AND model_name = ? AND model_version = ? "
                        f"AND window_start IN (SELECT UNNEST(?))",
                        [commodity, model_name, model_version, list(windows)])
        return {pd.Timestamp(r["window_start"]).date(): r for r in df.to_dict("records")}

    # -- forecasts ---------------------------------------------------------
    def replace_forecasts(self, commodity, model_name, model_version, days, distributions, points) -> None:
        check_batch(distributions, self.horizon)
        with self.transaction() as con:
            con.register("batch_dist", distributions)
            con.register("batch_points", points)
            # A new vintage of its days (the run layer numbers them): earlier vintages stay; only a
            # vintage written again (a retried write) replaces its own rows.
            key = [commodity, model_name, model_version]
            con.execute(sql.delete_forecast_vintages("distributions", CATALOG, "batch_points"), key)
            con.execute(sql.delete_forecast_vintages("point_forecasts", CATALOG, "batch_points"), key)
            con.execute(f"INSERT INTO {DIST} BY NAME SELECT * FROM batch_dist")
            con.execute(f"INSERT INTO {POINTS} BY NAME SELECT * FROM batch_points")
            for name in ("batch_dist", "batch_points"):
                con.unregister(name)

    def forecast_status(self, commodity, model_name, model_version, start, end) -> pd.DataFrame:
        key = [commodity, model_name, model_version, start, end]
        return self._read("forecast_status", sql.forecast_status_vintages(CATALOG), key * 3)

    def update_actuals(self, commodity: str, actuals: pd.DataFrame) -> int:
        if actuals.empty:
            return 0
        a = actuals[["forecast_start_date", "day_ahead", "actual_close"]].copy()
        a["forecast_start_date"] = pd.to_datetime(a["forecast_start_date"]).dt.date
        wide = a.pivot(index="forecast_start_date", columns="day_ahead", values="actual_close")
        cols = day_columns(self.horizon)
        complete = wide.reindex(columns=range(1, len(cols) + 1)).dropna()  # every step known
        complete.columns = [cols[int(k) - 1] for k in complete.columns]
        complete = complete.reset_index()
        long = pa.Table.from_pandas(a, preserve_index=False)
        with self.transaction() as con:
            con.register("batch_actuals", long)
            con.execute(
                f"UPDATE {POINTS} AS p SET actual_close = a.actual_close FROM batch_actuals a "
                f"WHERE p.commodity = ? AND p.forecast_start_date = a.forecast_start_date "
                f"AND p.day_ahead = a.day_ahead", [commodity])
            con.unregister("batch_actuals")
            if len(complete):
                con.register("batch_path0", pa.Table.from_pandas(complete, preserve_index=False))
                con.execute(sql.delete_path0(CATALOG, "batch_path0"), [commodity])
                con.execute(sql.insert_path0(CATALOG, "batch_path0", self.horizon), [commodity])
                con.unregister("batch_path0")
        return len(complete)

    # -- evaluation --------------------------------------------------------
    def read_paths(self, commodity, model_name, model_version, start, end, vintage="latest", max_paths=None):
        key = [commodity, model_name, model_version, start, end]
        where = "commodity = ? AND model_name = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ?"
        dist, points = (sql.vintage_view_name(t, CATALOG, vintage) for t in ("distributions", "point_forecasts"))
        upto = "" if max_paths is None else f" AND path_id <= {int(max_paths)}"
        with self.connect() as con:  # unordered: paths_by_day orders by (day, path_id), 3x faster than ORDER BY
            raw = con.execute(f"SELECT forecast_start_date, path_id, {', '.join(day_columns(self.horizon))} "
                              f"FROM {dist} WHERE {where} AND path_id > 0{upto}", key).fetchnumpy()
            pts = con.execute(f"SELECT forecast_start_date, day_ahead, forecast_date, data_cutoff_date, forecast_mean, "
                              f"lower_95, upper_95, model_success, COALESCE(vintage, 1) AS vintage "
                              f"FROM {points} WHERE {where} AND model_success "
                              f"ORDER BY forecast_start_date, day_ahead", key).df()
        return paths_by_day(raw, pts, self.horizon)

    def replace_scores(self, commodity, days, scores, metadata) -> None:
        day_table = pa.table({"d": pa.array(list(days), type=pa.date32())})
        with self.transaction() as con:
            con.register("batch_days", day_table)
            for name, rows in (("forecast_scores", scores), ("forecast_metadata", metadata)):
                con.execute(f"DELETE FROM {qualified(name)} WHERE commodity = ? "
                            f"AND forecast_start_date IN (SELECT d FROM batch_days)", [commodity])
                con.register("batch_rows", rows)
                con.execute(f"INSERT INTO {qualified(name)} BY NAME SELECT * FROM batch_rows")
                con.unregister("batch_rows")
            con.unregister("batch_days")

    def replace_performance(self, rows: pa.Table) -> None:
        with self.transaction() as con:
            con.register("batch_rows", rows)
            con.execute(f"DELETE FROM {qualified('model_performance')} WHERE (commodity, model_name, model_version, "
                        f"COALESCE(scored_as, 'latest')) IN (SELECT DISTINCT commodity, model_name, model_version, "
                        f"COALESCE(scored_as, 'latest') FROM batch_rows)")
            con.execute(f"INSERT INTO {qualified('model_performance')} BY NAME SELECT * FROM batch_rows")
            con.unregister("batch_rows")

    def _read_many(self, reads) -> list[pd.DataFrame]:
        # One attach of the file for them all: attaching costs about as much as a day's reads.
        try:
            with self.connect() as con:
                return [con.execute(text, params or []).df() for _, text, params in reads]
        except duckdb.CatalogException as exc:
            raise StorageError(f"{exc} (has the database been set up? run `forecast-assets init`)") from exc

    def _read(self, what: str, text: str, params: list | None = None) -> pd.DataFrame:
        try:
            with self.connect() as con:
                return con.execute(text, params or []).df()
        except duckdb.CatalogException as exc:
            raise StorageError(f"{exc} (has the database been set up? run `forecast-assets init`)") from exc
