"""Unity Catalog through databricks-sql-connector: the same tables and semantics as duckdb_store.

Sessions. A SQL warehouse session dies after some idle minutes (the system
this replaces died on 15-minute session timeouts in the middle of a backfill).
Here one connection is cached and reused, dropped on any error, and reopened
before use when it has been idle for MAX_IDLE_S. Every operation (one public
method call) runs under a tenacity retry: on a session or connection error it
closes the connection, reconnects and redoes the WHOLE operation. Operations
are therefore idempotent: every write replaces rows by key, never appends.

Writes. Rows go to a local Parquet file, are uploaded to the staging volume
(`PUT ... OVERWRITE`, the connector's staging support), and replace the
table's rows with ONE Delta statement per table:

    INSERT INTO <table> REPLACE WHERE <key predicate>
    SELECT CAST(s.<col> AS <type>) AS <col>, ... FROM parquet.`<staged file>` AS s

Delta's REPLACE WHERE is atomic (a reader sees the old rows or the new ones,
never half) and checks that every new row satisfies the predicate. Staged
files are removed afterwards (REMOVE), best effort. Small writes
(write_trained_model) use the same statement with parameter values instead of
a file.

Two tables that change together are not one transaction here, so the order is
chosen to fail safe: distributions first, point_forecasts LAST. Status queries
(sql.forecast_status_vintages, hence the resume check) and the vintage views
list a day's vintage only from its point_forecasts rows and require both tables
to carry the same model fingerprint, so a crash between the two statements
leaves the day incomplete (recomputed on the next run as the same vintage
number, whose REPLACE WHERE takes the orphaned distribution rows), never
counted as done. Likewise
forecast_scores before forecast_metadata, and actual_close before the path-0
rows (a day without path 0 has has_actuals = 0 and is attached again).

Every value is a bound parameter (the connector's native `?` markers). The
only text formatted into SQL is the catalog name and the staging paths, both
checked against a strict pattern first, and column names from storage.schema.
The access token never appears in logs, exceptions or repr.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Mapping, Sequence, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from forecast_assets.config import DEFAULT_HORIZON
from forecast_assets.core.data import FX_RE
from forecast_assets.core.input_rules import conform_frame
from forecast_assets.storage import sql
from forecast_assets.storage.base import ForecastStore, StorageError, paths_by_day
from forecast_assets.storage.horizon import check_batch, check_horizon
from forecast_assets.storage.schema import (CATALOG, FORECAST, SILVER, TABLES, columns, day_columns,
                                            missing_added, qualified, table_columns)

T = TypeVar("T")
_logger = logging.getLogger(__name__)

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_VOLUME_RE = re.compile(r"^/Volumes/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]+(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")
_LOCAL_PATH_RE = re.compile(r"^[A-Za-z0-9_./\-]+$")
# Text of connector errors that mean "the session or connection is gone", or a Delta
# conflict with a concurrent writer: the whole (idempotent) operation is worth redoing.
_TRANSIENT_RE = re.compile(
    r"session|sessionhandle|time[sd]? ?out|\bclosed\b|connection|\b50[234]\b|\b429\b|temporarily|unavailable|"
    r"reset by peer|broken pipe|concurrent(append|deleteread|deletedelete|transaction)|metadatachanged|"
    r"protocolchanged|DELTA_CONCURRENT", re.IGNORECASE)
_MISSING_TABLE_RE = re.compile(r"TABLE_OR_VIEW_NOT_FOUND|SCHEMA_NOT_FOUND|NO_SUCH_CATALOG|does not exist",
                               re.IGNORECASE)

_SQL_TO_ARROW = {"STRING": pa.string(), "DOUBLE": pa.float64(), "FLOAT": pa.float32(), "INT": pa.int32(),
                 "DATE": pa.date32(), "BOOLEAN": pa.bool_(),
                 # Naive timestamps are UTC (rows.py); tagging them so makes the Parquet
                 # instant exact whatever the session time zone.
                 "TIMESTAMP": pa.timestamp("us", tz="UTC")}


class _Secret:
    """Holds the token; prints as *** so it never lands in a repr, vars() dump or log line."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__


@dataclass
class _Write:
    """One table's replacement: rows staged as Parquet, then INSERT INTO table REPLACE WHERE predicate.

    Without a query the staged rows are inserted; with one, the query's rows are (the staged file
    is the relation `{staged}` inside it) and query_params follow the predicate's params.
    """

    table: str
    rows: pa.Table
    target: list[tuple[str, str]]
    predicate: str
    params: list
    query: str | None = None
    query_params: list = field(default_factory=list)


def _sql_type(t: pa.DataType) -> str:
    """The SQL type of a column read back as Arrow (for live columns storage.schema does not know)."""
    for name, at in _SQL_TO_ARROW.items():
        if t == at or (name == "TIMESTAMP" and pa.types.is_timestamp(t)):
            return name
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    return "STRING"


def _check_ident(name: str, what: str) -> str:
    if not isinstance(name, str) or not _IDENT_RE.match(name):
        raise StorageError(f"{what} {name!r} is not a safe identifier (letters, digits, underscore; "
                           f"not starting with a digit)")
    return name


def _check_volume(path: str, what: str = "staging volume") -> str:
    if not isinstance(path, str) or not _VOLUME_RE.match(path.rstrip("/")) or ".." in path:
        raise StorageError(f"{what} {path!r} is not a safe Unity Catalog volume path "
                           f"(/Volumes/<catalog>/<schema>/<volume>[/<folder>...], letters, digits, _ . -)")
    return path.rstrip("/")


def _as_date(v: Any) -> date:
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, np.datetime64):
        return pd.Timestamp(v).date()
    if isinstance(v, str):
        return date.fromisoformat(v[:10])
    raise StorageError(f"not a date: {v!r}")


def _param(v: Any) -> Any:
    """A value the connector can bind: Python scalars, date, datetime or None (NaN/NaT become NULL)."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).to_pydatetime()
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _days_predicate(column: str, days: Sequence[date]) -> tuple[str, list]:
    """Exactly these days, as runs of consecutive calendar days: `(c BETWEEN ? AND ? OR c = ?)`.

    A half-year window is one BETWEEN, so the statement stays short whatever the number of days.
    """
    ds = sorted(set(days))
    if not ds:
        return "FALSE", []
    runs: list[list[date]] = [[ds[0], ds[0]]]
    for d in ds[1:]:
        if (d - runs[-1][1]).days == 1:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    parts, params = [], []
    for a, b in runs:
        if a == b:
            parts.append(f"{column} = ?")
            params.append(a)
        else:
            parts.append(f"{column} BETWEEN ? AND ?")
            params += [a, b]
    return "(" + " OR ".join(parts) + ")", params


def _vintage_days_predicate(points: pa.Table, days: Sequence[date]) -> tuple[str, list]:
    """The (day, vintage) pairs of a batch: per vintage number, `COALESCE(vintage, 1) = ? AND <its days>`.
    Days the batch names without rows (none in practice) are taken as vintage 1."""
    by_vintage: dict[int, set[date]] = {}
    if points.num_rows:
        pairs = points.select(["forecast_start_date", "vintage"]).to_pydict()
        for d, v in zip(pairs["forecast_start_date"], pairs["vintage"]):
            by_vintage.setdefault(int(v or 1), set()).add(_as_date(d))
    rest = set(days) - {d for ds in by_vintage.values() for d in ds}
    if rest:
        by_vintage.setdefault(1, set()).update(rest)
    if not by_vintage:
        return "FALSE", []
    parts, params = [], []
    for v, ds in sorted(by_vintage.items()):
        pred, ps = _days_predicate("forecast_start_date", sorted(ds))
        parts.append(f"(COALESCE(vintage, 1) = ? AND {pred})")
        params += [v, *ps]
    return "(" + " OR ".join(parts) + ")", params


def _error_text(exc: BaseException) -> str:
    # databricks.sql.exc.Error.__str__ returns .message, which may be None (str() then raises).
    try:
        text = str(exc)
    except Exception:
        text = repr(getattr(exc, "message", None))
    return text or type(exc).__name__


def _http_code(exc: BaseException) -> int | None:
    ctx = getattr(exc, "context", None)
    if isinstance(ctx, Mapping):
        try:
            return int(ctx.get("http-code")) if ctx.get("http-code") is not None else None
        except (TypeError, ValueError):
            return None
    return None


def is_transient(exc: BaseException) -> bool:
    """A session/connection error (or a Delta write conflict): reconnect and redo the operation."""
    try:
        from databricks.sql import exc as dbx
    except ImportError:  # pragma: no cover - the connector is a dependency of this backend
        dbx = None
    if _http_code(exc) in (400, 401, 403, 404):
        return False  # bad request or credentials: retrying will not help
    if dbx is not None:
        if isinstance(exc, (dbx.ProgrammingError, dbx.NotSupportedError, dbx.DataError, dbx.IntegrityError)):
            return False
        if isinstance(exc, (dbx.RequestError, dbx.OperationalError, dbx.InterfaceError)):
            return True
        if isinstance(exc, dbx.Error):
            return bool(_TRANSIENT_RE.search(_error_text(exc)))
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    return False


def _default_connect():
    from databricks import sql as dbsql  # lazy: only this backend needs the connector

    return dbsql.connect


class DatabricksSQLStore(ForecastStore):
    MAX_IDLE_S = 600.0  # reopen a cached connection idle this long (warehouse sessions expire after ~15 min)
    STAGED_PREFIX = "forecast-assets"

    def __init__(self, server_hostname: str, http_path: str, access_token: str, *, catalog: str = CATALOG,
                 staging_volume: str = f"/Volumes/{CATALOG}/{FORECAST}/staging",
                 connect: Callable[..., Any] | None = None, max_attempts: int = 5,
                 log: Callable[[str], None] | None = None, horizon: int = DEFAULT_HORIZON):
        if not server_hostname or not http_path:
            raise StorageError("Databricks SQL needs a server hostname and an HTTP path")
        if not access_token:
            raise StorageError("Databricks SQL needs an access token")
        if int(max_attempts) < 1:
            raise StorageError(f"max_attempts must be >= 1, got {max_attempts}")
        self.server_hostname = server_hostname
        self.http_path = http_path
        self._token = _Secret(access_token)
        self.catalog = _check_ident(catalog, "catalog")
        self.staging_volume = _check_volume(staging_volume)
        self.max_attempts = int(max_attempts)
        self.horizon = int(horizon)
        self._connect_fn = connect
        self._log_fn = log
        self.retry_wait = wait_exponential_jitter(multiplier=1.0, max=30.0)  # tests set tenacity.wait_none()
        self._lock = threading.RLock()
        self._conn: Any = None
        self._last_used = 0.0
        self._staging_dir: str | None = None

    @classmethod
    def from_settings(cls, settings, environ: Mapping[str, str] | None = None, **kwargs) -> "DatabricksSQLStore":
        """Catalog and staging volume from the settings (FORECAST_DATABRICKS_CATALOG, _VOLUME);
        DATABRICKS_HOST, DATABRICKS_HTTP_PATH, DATABRICKS_TOKEN (required) from the environment of
        the process that opens the store, so the token is in no setting, config or log."""
        e = os.environ if environ is None else environ
        values = {}
        for var in ("DATABRICKS_HOST", "DATABRICKS_HTTP_PATH", "DATABRICKS_TOKEN"):
            v = (e.get(var) or "").strip()
            if not v:
                raise StorageError(f"{var} is not set: the Databricks SQL backend (FORECAST_ENV=databricks) needs "
                                   f"DATABRICKS_HOST, DATABRICKS_HTTP_PATH and DATABRICKS_TOKEN")
            values[var] = v
        host = re.sub(r"^https?://", "", values["DATABRICKS_HOST"]).rstrip("/")
        return cls(host, values["DATABRICKS_HTTP_PATH"], values["DATABRICKS_TOKEN"],
                   catalog=settings.databricks_catalog, staging_volume=settings.databricks_volume,
                   **{"horizon": settings.horizon, **kwargs})

    def __repr__(self) -> str:
        return (f"DatabricksSQLStore(server_hostname={self.server_hostname!r}, http_path={self.http_path!r}, "
                f"catalog={self.catalog!r}, staging_volume={self.staging_volume!r})")

    # -- plumbing ----------------------------------------------------------
    def _scrub(self, text: str) -> str:
        tok = self._token.value
        if tok and tok in text:
            text = text.replace(tok, "***")
        return re.sub(r"(?i)(bearer\s+|token[=:]\s*)[A-Za-z0-9._\-]{8,}", r"\1***", text)

    def _log(self, line: str) -> None:
        line = self._scrub(line)
        if self._log_fn is not None:
            self._log_fn(line)
        else:
            _logger.info(line)

    def _t(self, table: str) -> str:
        return qualified(table, self.catalog)

    def _local_staging(self) -> str:
        if self._staging_dir is None:
            d = tempfile.mkdtemp(prefix="forecast-staging-")
            if not _LOCAL_PATH_RE.match(d):
                shutil.rmtree(d, ignore_errors=True)
                raise StorageError(f"local staging folder {d!r} has characters unsafe in a PUT statement; "
                                   f"set TMPDIR to a plain path")
            self._staging_dir = d
            weakref.finalize(self, shutil.rmtree, d, True)
        return self._staging_dir

    def _open(self):
        connect = self._connect_fn or _default_connect()
        return connect(server_hostname=self.server_hostname, http_path=self.http_path,
                       access_token=self._token.value, staging_allowed_local_path=self._local_staging(),
                       user_agent_entry="forecast-assets",
                       # The connector's own HTTP retries last up to 900 s by default: bound them so a
                       # dead session fails fast into our reconnect-and-redo retry instead of hanging.
                       _retry_stop_after_attempts_count=4, _retry_stop_after_attempts_duration=120.0)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # the session may already be gone; nothing to do about it
                pass

    def _connection(self):
        if self._conn is not None and time.monotonic() - self._last_used > self.MAX_IDLE_S:
            self._drop()  # idle too long: the server has likely expired the session already
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _attempt(self, fn: Callable[[Any], T]) -> T:
        with self._lock:
            try:
                conn = self._connection()
                cur = conn.cursor()
                try:
                    out = fn(cur)
                finally:
                    try:
                        cur.close()
                    except Exception:
                        pass
            except BaseException:
                self._drop()  # never reuse a connection that saw an error
                raise
            self._last_used = time.monotonic()
            return out

    def _run(self, what: str, fn: Callable[[Any], T]) -> T:
        """Run fn(cursor) as one operation; on a session/connection error reconnect and redo all of it."""

        def before_sleep(state) -> None:
            exc = state.outcome.exception()
            wait = state.next_action.sleep if state.next_action else 0.0
            self._log(f"databricks: {what}: attempt {state.attempt_number}/{self.max_attempts} failed "
                      f"({type(exc).__name__}: {_error_text(exc)}); reconnecting and redoing the whole "
                      f"operation in {wait:.1f}s")

        retrying = Retrying(stop=stop_after_attempt(self.max_attempts), wait=self.retry_wait,
                            retry=retry_if_exception(is_transient), before_sleep=before_sleep, reraise=True)
        try:
            return retrying(self._attempt, fn)
        except StorageError:
            raise
        except Exception as exc:
            n = retrying.statistics.get("attempt_number", 1)
            text = _error_text(exc)
            msg = f"Databricks SQL: {what} failed"
            msg += f" after {n} attempts" if is_transient(exc) else ""
            msg += f": {type(exc).__name__}: {text}"
            if _MISSING_TABLE_RE.search(text):
                msg += " (has the schema been set up? run ensure_schema / `forecast-assets init`)"
            err = StorageError(self._scrub(msg))
            err.transient = is_transient(exc)  # the warehouse was unreachable, rather than refusing
            if str(err) != msg or self._scrub(repr(exc)) != repr(exc):
                raise err from None  # the cause carries the secret: do not chain it
            raise err from exc

    @staticmethod
    def _exec(cur, text: str, params: Sequence | None = None):
        cur.execute(text, [_param(p) for p in params] if params else None)
        return cur

    def _select(self, cur, text: str, params: Sequence | None = None) -> pa.Table:
        return self._exec(cur, text, params).fetchall_arrow()

    @staticmethod
    def _to_pandas(table: pa.Table) -> pd.DataFrame:
        df = table.to_pandas(date_as_object=False, coerce_temporal_nanoseconds=True)
        for c in df.columns:  # naive UTC timestamps, like the DuckDB backend
            if isinstance(df[c].dtype, pd.DatetimeTZDtype):
                df[c] = df[c].dt.tz_convert("UTC").dt.tz_localize(None)
        return df

    # -- statements --------------------------------------------------------
    def _replace_statement(self, table: str, predicate: str, source: str | None,
                           source_columns: Sequence[str], target: Sequence[tuple[str, str]]) -> str:
        """INSERT INTO t REPLACE WHERE <predicate> SELECT <every target column, cast> FROM <source> AS s.

        Columns absent from the source are NULL (like INSERT ... BY NAME); no source means no rows
        (the statement then only deletes). The predicate ends at the first newline.
        """
        have = set(source_columns)
        cols = ", ".join(f"CAST({'s.' + c if c in have and source else 'NULL'} AS {t}) AS {c}" for c, t in target)
        frm = f"{source} AS s" if source else "(SELECT 1 AS one) AS s WHERE FALSE"
        return f"INSERT INTO {self._t(table)} REPLACE WHERE {predicate}\nSELECT {cols} FROM {frm}"

    def _conform(self, table: str, rows: pa.Table, target: Sequence[tuple[str, str]]) -> pa.Table:
        """Rows cast to the table's column types (so Parquet holds exactly what the table takes)."""
        types = dict(target)
        unknown = [c for c in rows.column_names if c not in types]
        if unknown:
            raise StorageError(f"{table}: rows have columns the table does not: {', '.join(unknown)}")
        out = []
        for name in rows.column_names:
            col, want = rows.column(name), _SQL_TO_ARROW.get(types[name].upper())
            if want is not None and col.type != want:
                try:
                    col = pc.cast(col, want, safe=not pa.types.is_timestamp(want))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                    raise StorageError(f"{table}.{name}: values do not fit {types[name]}: {exc}") from exc
            out.append(col)
        return pa.table(out, names=rows.column_names)

    @staticmethod
    def _check_keys(table: str, rows: pa.Table, equal: Mapping[str, Any], days: Sequence[date] | None) -> None:
        """Every row must lie inside the replaced key (Delta rejects a REPLACE WHERE otherwise; say why first)."""
        if rows.num_rows == 0:
            return
        for col, value in equal.items():
            if col not in rows.column_names:
                raise StorageError(f"{table}: rows lack the key column {col}")
            c = rows.column(col)
            if c.null_count or not pc.all(pc.equal(c, pa.scalar(value, c.type))).as_py():
                raise StorageError(f"{table}: every row must have {col} = {value!r}")
        if days is not None:
            c = pc.cast(rows.column("forecast_start_date"), pa.date32())
            inside = pc.is_in(c, value_set=pa.array(sorted(set(days)), pa.date32()))
            if c.null_count or not pc.all(inside).as_py():
                raise StorageError(f"{table}: rows have a forecast_start_date outside the days being replaced")

    def _bulk_replace(self, what: str, writes: list[_Write]) -> None:
        """Stage each write's rows and replace the table rows, in the given order, as one retried operation."""
        t0 = time.perf_counter()
        op = f"{self.STAGED_PREFIX}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
        local_dir = tempfile.mkdtemp(dir=self._local_staging())
        staged: list[tuple[str, str]] = []
        statements: list[tuple[str, list]] = []
        try:
            for i, w in enumerate(writes):
                relation, names = None, []
                if w.rows.num_rows:
                    local = os.path.join(local_dir, f"{i}-{w.table}.parquet")
                    pq.write_table(w.rows, local)
                    remote = f"{self.staging_volume}/{op}-{i}-{w.table}.parquet"
                    staged.append((local, remote))
                    relation, names = f"parquet.`{remote}`", w.rows.column_names
                if w.query is not None:
                    if relation is None:
                        raise StorageError(f"{what}: internal error: a query write needs staged rows")
                    source = "(" + w.query.replace("{staged}", relation) + ")"
                    text = self._replace_statement(w.table, w.predicate, source, [c for c, _ in w.target], w.target)
                    statements.append((text, list(w.params) + list(w.query_params)))
                else:
                    statements.append((self._replace_statement(w.table, w.predicate, relation, names, w.target),
                                       list(w.params)))

            def run(cur):
                for local, remote in staged:  # all uploads first: the replacements then follow back to back
                    self._exec(cur, f"PUT '{local}' INTO '{remote}' OVERWRITE")
                for text, params in statements:
                    self._exec(cur, text, params)

            self._run_staged(what, run, [r for _, r in staged])
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
        rows_text = ", ".join(f"{w.table} {w.rows.num_rows} rows" for w in writes)
        self._log(f"databricks: {what}: {rows_text}, {time.perf_counter() - t0:.1f}s")

    def _run_staged(self, what: str, fn: Callable[[Any], None], remotes: list[str]) -> None:
        """Run an operation that uploads `remotes`, then remove them, best effort. After a failure they
        are removed only if the warehouse answered (a refusal), not when it was unreachable."""
        try:
            self._run(what, fn)
        except StorageError as exc:
            if remotes and not getattr(exc, "transient", False):
                self._remove_staged(remotes, what)
            raise
        if remotes:
            self._remove_staged(remotes, what)

    def _remove_staged(self, remotes: list[str], what: str) -> None:
        try:
            self._attempt(lambda cur: [self._exec(cur, f"REMOVE '{r}'") for r in remotes])
        except Exception as exc:
            self._log(f"databricks: {what}: could not remove staged files {remotes} "
                      f"({type(exc).__name__}: {_error_text(exc)}); they are safe to delete")

    # -- schema ------------------------------------------------------------
    def ensure_schema(self) -> None:
        def run(cur):
            for schema in (SILVER, FORECAST):
                self._exec(cur, f"CREATE SCHEMA IF NOT EXISTS {self.catalog}.{schema}")
            for table in TABLES:
                self._exec(cur, sql.create_table(table, self.catalog, self.horizon, " USING DELTA"))
            live = self._live_columns(cur, TABLES)
            check_horizon(live, self.horizon, f"catalog {self.catalog}")
            for table in TABLES:  # a catalog made before a column was added gets it (old rows NULL)
                for column, sql_type in missing_added(table, live[table]):
                    self._exec(cur, sql.add_column(table, self.catalog, column, sql_type))
            for table in ("distributions", "point_forecasts"):  # after the columns: a view binds them
                for which in sql.VINTAGE_VIEWS:
                    self._exec(cur, sql.create_vintage_view(table, self.catalog, which))

        self._run("ensure_schema", run)
        _, _, cat, schema, volume, *_ = self.staging_volume.split("/")
        try:  # the staging volume; may exist already and we may lack CREATE VOLUME: then say so and go on
            self._run("create staging volume",
                      lambda cur: self._exec(cur, f"CREATE VOLUME IF NOT EXISTS {cat}.{schema}.{volume}"))
        except StorageError as exc:
            self._log(f"databricks: could not create the staging volume {cat}.{schema}.{volume} ({exc}); "
                      f"bulk writes need it to exist and be writable")

    def _live_columns(self, cur, tables) -> dict[str, list[str]]:
        out = {}
        for table in tables:
            schema = qualified(table).split(".")[1]
            listed = self._select(cur, f"SHOW TABLES IN {self.catalog}.{schema}").column("tableName").to_pylist()
            if table in listed:
                out[table] = self._select(cur, f"SELECT * FROM {self._t(table)} LIMIT 0").schema.names
        return out

    def live_columns(self, tables) -> dict[str, list[str]]:
        return self._run("live_columns", lambda cur: self._live_columns(cur, tables))

    def count_rows(self, tables) -> dict[str, int]:
        def run(cur):
            live = self._live_columns(cur, tables)
            return {t: (self._select(cur, f"SELECT COUNT(*) AS n FROM {self._t(t)}").column("n")[0].as_py()
                        if t in live else 0) for t in tables}

        return self._run("count_rows", run)

    def drop_tables(self, tables) -> None:
        self._run("drop_tables", lambda cur: [self._exec(cur, f"DROP TABLE IF EXISTS {self._t(t)}") for t in tables])

    # -- input -------------------------------------------------------------
    def read_unified(self, commodity, start=None, end=None) -> pd.DataFrame:
        where, params = ["commodity = ?"], [commodity]
        if start is not None:
            where.append("date >= ?")
            params.append(_as_date(start))
        if end is not None:
            where.append("date <= ?")
            params.append(_as_date(end))
        text = f"SELECT * FROM {self._t('unified_data')} WHERE {' AND '.join(where)} ORDER BY date, region"
        df = self._to_pandas(self._run(f"read_unified {commodity}", lambda cur: self._select(cur, text, params)))
        df["date"] = pd.to_datetime(df["date"])
        return conform_frame(df, self._t("unified_data"))  # the same rules as an import (core.input_rules)

    def unified_version(self) -> str:
        text = sql.unified_row_hash(self._t("unified_data"), "databricks")
        rows = self._run("unified_version", lambda cur: self._select(cur, text)).to_pylist()
        return hashlib.sha256(repr([tuple(r.values()) for r in rows]).encode()).hexdigest()[:16]

    def unified_summary(self) -> pd.DataFrame:
        return self._read("unified_summary", sql.unified_summary(self._t("unified_data")))

    def replace_unified(self, df: pd.DataFrame) -> int:
        commodities = sorted(df["commodity"].dropna().unique().tolist()) if "commodity" in df else []
        pred = "commodity IN (" + ", ".join("?" * len(commodities)) + ")"

        def statement(source, columns, target):
            return self._replace_statement("unified_data", pred, source, columns, target), commodities

        return self._write_unified(df, f"replace_unified {', '.join(commodities)}", statement,
                                   empty=not commodities)

    def merge_unified(self, df: pd.DataFrame) -> int:
        """Staged like replace_unified, then one MERGE INTO (sql.merge_unified) by (date, commodity, region)."""
        unified = self._t("unified_data")

        def statement(source, columns, target):
            return sql.merge_unified(unified, source, columns, [c for c, _ in target]), None

        return self._write_unified(df, "merge_unified", statement, empty=False)

    def _write_unified(self, df: pd.DataFrame, label: str, statement, empty: bool) -> int:
        """Stage the rows as Parquet on the volume, then run `statement(source, columns, target)` -> (text,
        params) in the same operation. The target columns are the live table's (FX columns come and go
        with the data), known only inside the operation: read them there and add missing FX first."""
        fx = [c for c in df.columns if FX_RE.match(c)]
        missing = [c for c in columns("unified_data") if c not in df.columns]
        if missing:
            raise StorageError(f"unified_data rows lack columns: {', '.join(missing)}")
        wanted = columns("unified_data") + fx
        base = dict(table_columns("unified_data")) | {c: "DOUBLE" for c in fx}
        rows = self._conform("unified_data", pa.Table.from_pandas(df[wanted], preserve_index=False), list(base.items()))
        if empty or rows.num_rows == 0:
            return 0
        unified = self._t("unified_data")
        t0 = time.perf_counter()
        op = f"{self.STAGED_PREFIX}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
        local_dir = tempfile.mkdtemp(dir=self._local_staging())
        local = os.path.join(local_dir, "unified_data.parquet")
        remote = f"{self.staging_volume}/{op}-unified_data.parquet"
        try:
            pq.write_table(rows, local)

            def run(cur):
                live = self._select(cur, f"SELECT * FROM {unified} LIMIT 0").schema
                add = [c for c in fx if c not in live.names]
                if add:  # FX_RE-checked identifiers only
                    self._exec(cur, f"ALTER TABLE {unified} ADD COLUMNS ({', '.join(f'{c} DOUBLE' for c in add)})")
                target = [(c, base.get(c) or _sql_type(live.field(c).type)) for c in live.names] + \
                         [(c, "DOUBLE") for c in add]
                self._exec(cur, f"PUT '{local}' INTO '{remote}' OVERWRITE")
                self._exec(cur, *statement(f"parquet.`{remote}`", rows.column_names, target))

            self._run_staged(label, run, [remote])
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
        self._log(f"databricks: {label}: unified_data {rows.num_rows} rows, {time.perf_counter() - t0:.1f}s")
        return rows.num_rows

    # -- trained models ----------------------------------------------------
    def write_trained_model(self, row: dict[str, Any]) -> None:
        target = table_columns("trained_models")
        key = [row["commodity"], row["model_name"], row["model_version"], _as_date(row["window_start"])]
        pred = "commodity = ? AND model_name = ? AND model_version = ? AND window_start = ?"
        values = ", ".join(f"CAST(? AS {t}) AS {c}" for c, t in target)
        text = f"INSERT INTO {self._t('trained_models')} REPLACE WHERE {pred}\nSELECT {values}"
        params = key + [row.get(c) for c, _ in target]
        self._run(f"write_trained_model {'/'.join(map(str, key))}", lambda cur: self._exec(cur, text, params))

    def read_trained_model(self, commodity, model_name, model_version, window_start) -> dict | None:
        df = self._read(
            "read_trained_model", f"SELECT * FROM {self._t('trained_models')} WHERE commodity = ? AND model_name = ? "
            f"AND model_version = ? AND window_start = ?",
            [commodity, model_name, model_version, _as_date(window_start)])
        return None if df.empty else df.iloc[0].to_dict()

    # -- forecasts ---------------------------------------------------------
    def replace_forecasts(self, commodity, model_name, model_version, days, distributions, points) -> None:
        days = sorted({_as_date(d) for d in days})
        key = {"commodity": commodity, "model_name": model_name, "model_version": model_version}
        writes = []
        # A new vintage of its days: REPLACE WHERE only the (day, vintage) pairs written (a retried write
        # replaces its own rows once); earlier vintages are outside the predicate and stay.
        pred_days, day_params = _vintage_days_predicate(points, days)
        pred = f"commodity = ? AND model_name = ? AND model_version = ? AND {pred_days}"
        check_batch(distributions, self.horizon)
        # distributions first, point_forecasts LAST: status reads completeness from point_forecasts.
        for table, rows in (("distributions", distributions), ("point_forecasts", points)):
            target = table_columns(table, self.horizon)
            rows = self._conform(table, rows, target)
            self._check_keys(table, rows, key, days)
            writes.append(_Write(table, rows, target, pred, [commodity, model_name, model_version] + day_params))
        if not days and not any(w.rows.num_rows for w in writes):
            return
        self._bulk_replace(f"replace_forecasts {commodity}/{model_name}/{model_version} {len(days)} days", writes)

    def forecast_status(self, commodity, model_name, model_version, start, end) -> pd.DataFrame:
        key = [commodity, model_name, model_version, _as_date(start), _as_date(end)]
        text = sql.forecast_status_vintages(self.catalog)
        return self._to_pandas(self._run(f"forecast_status {commodity}/{model_name}/{model_version}",
                                         lambda cur: self._select(cur, text, key * 3)))

    def update_actuals(self, commodity: str, actuals: pd.DataFrame) -> int:
        if actuals.empty:
            return 0
        a = actuals[["forecast_start_date", "day_ahead", "actual_close"]].copy()
        a["forecast_start_date"] = pd.to_datetime(a["forecast_start_date"]).dt.date
        a["day_ahead"] = a["day_ahead"].astype("int32")
        a = a.drop_duplicates(["forecast_start_date", "day_ahead"], keep="last")
        wide = a.pivot(index="forecast_start_date", columns="day_ahead", values="actual_close")
        cols = day_columns(self.horizon)
        complete = wide.reindex(columns=range(1, len(cols) + 1)).dropna()  # every step known
        complete.columns = [cols[int(k) - 1] for k in complete.columns]
        complete = complete.reset_index()
        long = pa.Table.from_pandas(a, preserve_index=False)

        points_t = table_columns("point_forecasts")
        days = sorted(set(a["forecast_start_date"]))
        pred_days, day_params = _days_predicate("forecast_start_date", days)
        p_days, _ = _days_predicate("p.forecast_start_date", days)
        fill = ", ".join(
            "CASE WHEN a.day_ahead IS NOT NULL THEN a.actual_close ELSE p.actual_close END AS actual_close"
            if c == "actual_close" else f"p.{c}" for c, _ in points_t)
        # Rewrite these days' point rows (every model of the commodity) with actual_close filled in:
        # one atomic REPLACE WHERE reading the table's current rows, instead of UPDATE ... FROM.
        points_query = (f"SELECT {fill} FROM {self._t('point_forecasts')} p LEFT JOIN {{staged}} a "
                        f"ON a.forecast_start_date = p.forecast_start_date AND a.day_ahead = p.day_ahead "
                        f"WHERE p.commodity = ? AND {p_days}")
        writes = [_Write("point_forecasts", long, points_t, f"commodity = ? AND {pred_days}", [commodity] + day_params,
                         points_query, [commodity] + day_params)]
        if len(complete):
            cdays = sorted(complete["forecast_start_date"])
            c_pred, c_params = _days_predicate("forecast_start_date", cdays)
            wide_t = pa.Table.from_pandas(complete, preserve_index=False)
            wide_t = wide_t.set_column(0, "forecast_start_date", pc.cast(wide_t.column(0), pa.date32()))
            writes.append(_Write("distributions", wide_t, table_columns("distributions", self.horizon),
                                 f"commodity = ? AND path_id = 0 AND {c_pred}", [commodity] + c_params,
                                 sql.path0_rows(self.catalog, "{staged}", self.horizon), [commodity]))
        self._bulk_replace(f"update_actuals {commodity} {len(days)} days", writes)
        return len(complete)

    # -- evaluation --------------------------------------------------------
    def read_paths(self, commodity, model_name, model_version, start, end, vintage="latest", max_paths=None):
        key = [commodity, model_name, model_version, _as_date(start), _as_date(end)]
        where = "commodity = ? AND model_name = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ?"
        days = ", ".join(day_columns(self.horizon))
        dist, points = (sql.vintage_view_name(t, self.catalog, vintage) for t in ("distributions", "point_forecasts"))
        paths_sql = (f"SELECT forecast_start_date, {days} FROM {dist} "
                     f"WHERE {where} AND path_id > 0{'' if max_paths is None else f' AND path_id <= {int(max_paths)}'} "
                     f"ORDER BY forecast_start_date, path_id")
        points_sql = (f"SELECT forecast_start_date, day_ahead, forecast_date, data_cutoff_date, forecast_mean, "
                      f"lower_95, upper_95, model_success, COALESCE(vintage, 1) AS vintage FROM {points} WHERE {where} "
                      f"AND model_success ORDER BY forecast_start_date, day_ahead")

        def run(cur):
            return self._select(cur, paths_sql, key), self._select(cur, points_sql, key)

        raw_t, pts_t = self._run(f"read_paths {commodity}/{model_name}/{model_version}", run)
        raw = {c: raw_t.column(c).to_numpy() for c in raw_t.column_names}
        return paths_by_day(raw, self._to_pandas(pts_t), self.horizon)

    def replace_scores(self, commodity, days, scores, metadata) -> None:
        days = sorted({_as_date(d) for d in days})
        pred_days, day_params = _days_predicate("forecast_start_date", days)
        writes = []
        # forecast_scores first, forecast_metadata (the "scored" marker) last.
        for table, rows in (("forecast_scores", scores), ("forecast_metadata", metadata)):
            target = table_columns(table, self.horizon)
            rows = self._conform(table, rows, target)
            self._check_keys(table, rows, {"commodity": commodity}, days)
            writes.append(_Write(table, rows, target, f"commodity = ? AND {pred_days}", [commodity] + day_params))
        if not days and not any(w.rows.num_rows for w in writes):
            return
        self._bulk_replace(f"replace_scores {commodity} {len(days)} days", writes)

    def replace_performance(self, rows: pa.Table) -> None:
        target = table_columns("model_performance")
        rows = self._conform("model_performance", rows, target)
        if rows.num_rows == 0:
            return
        key_rows = rows.select(["commodity", "model_name", "model_version", "scored_as"]).to_pylist()
        keys = sorted({(*list(r.values())[:3], r["scored_as"] or "latest") for r in key_rows}, key=repr)
        pred = "(" + " OR ".join(["(commodity = ? AND model_name = ? AND model_version = ? "
                                  "AND COALESCE(scored_as, 'latest') = ?)"] * len(keys)) + ")"
        params = [v for k in keys for v in k]
        self._bulk_replace(f"replace_performance {len(keys)} models",
                           [_Write("model_performance", rows, target, pred, params)])

    def _read(self, what: str, text: str, params: list | None = None) -> pd.DataFrame:
        """One read of storage.sql, built with this store's catalog (no name rewriting here)."""
        return self._to_pandas(self._run(what, lambda cur: self._select(cur, text, params)))
