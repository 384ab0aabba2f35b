"""The Databricks SQL backend, with the SQL it sends run by a real local Spark.

How the warehouse is stood in for (FakeWarehouse below):

- Real: every SELECT, CREATE SCHEMA/TABLE, ALTER TABLE and the SELECT part of every
  `INSERT INTO t REPLACE WHERE <predicate>\\nSELECT ...` is parsed, analysed and executed by
  Spark SQL (pyspark 4, `spark.sql(text, args=<positional params>)`), against tables that
  ensure_schema created, reading the staged Parquet files with `parquet.\\`path\\``. The REPLACE
  predicate text is evaluated by Spark too (see the emulation). Parameters are also passed
  through the connector's own binding code (dbsql_parameter_from_primitive + as_tspark_param)
  and the `?` markers are counted, so a value the real connector cannot bind fails here.
- Rewritten, documented: the three-part names `commodity.silver.x` / `commodity.forecast.x`
  become `spark_catalog.silver.x` / `spark_catalog.forecast.x` (Spark's built-in session catalog;
  a second catalog named `commodity` would need a catalog plugin jar), `USING DELTA` becomes
  `USING PARQUET` (no Delta jars here), and `/Volumes/...` paths map to a folder under tmp.
- Emulated, because Spark without Delta cannot run them:
  * `PUT '<local>' INTO '/Volumes/...' OVERWRITE`: copies the file (refused, like the connector,
    when the local file is outside staging_allowed_local_path); `REMOVE`: deletes it;
    `CREATE VOLUME IF NOT EXISTS`: makes the folder.
  * `INSERT INTO t REPLACE WHERE p\\nSELECT q`: Spark runs
    `SELECT q.*, NOT COALESCE((p), FALSE) FROM (q)` (materialized to Arrow), and any row outside p
    is refused as Delta's replaceWhere check does; then Spark reads the kept rows
    `SELECT * FROM t WHERE NOT COALESCE((p), FALSE)` and t is overwritten with kept + new rows.
    One statement is applied whole or not at all (the injected failures happen before or after
    a statement), as Delta's REPLACE WHERE is atomic.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import traceback
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

pytest.importorskip("databricks.sql")
from databricks.sql import exc as dbx  # noqa: E402
from tenacity import wait_none  # noqa: E402

from forecast_assets.config import ConfigError, Settings  # noqa: E402
from forecast_assets.core.forecast import forecast, train  # noqa: E402
from forecast_assets.core.calendar import ICE_SOFTS, Calendar  # noqa: E402
from forecast_assets.core.paths import day_seeds  # noqa: E402
from forecast_assets.storage.base import StorageError  # noqa: E402
from forecast_assets.storage.databricks_sql import DatabricksSQLStore  # noqa: E402
from forecast_assets.storage.rows import distribution_rows, point_rows  # noqa: E402
from forecast_assets.storage.schema import TABLES, columns, qualified  # noqa: E402

TOKEN = "dapi0123456789abcdef0123456789abcdef"
HOST, HTTP_PATH = "adb-1234567890123456.7.azuredatabricks.net", "/sql/1.0/warehouses/abcdef0123456789"
DIST, POINTS = qualified("distributions"), qualified("point_forecasts")
N_PATHS = 20

# -- the stand-in warehouse ----------------------------------------------------

_REPLACE_RE = re.compile(r"^INSERT INTO (\S+) REPLACE WHERE (.*?)\n(SELECT .*)$", re.DOTALL)
_MERGE_RE = re.compile(r"^MERGE INTO (\S+) AS t USING (.+?) AS s ON (.+?) WHEN MATCHED THEN UPDATE SET (.+?) "
                       r"WHEN NOT MATCHED THEN INSERT \((.+?)\) VALUES \((.+)\)$", re.DOTALL)
_PUT_RE = re.compile(r"^PUT '([^']+)' INTO '([^']+)' OVERWRITE$")
_REMOVE_RE = re.compile(r"^REMOVE '([^']+)'$")
_VOLUME_RE = re.compile(r"^CREATE VOLUME IF NOT EXISTS (\w+)\.(\w+)\.(\w+)$")


def session_dropped(n: int) -> Exception:
    # What the connector raises when the warehouse has expired the session (INVALID_HANDLE_STATUS).
    return dbx.DatabaseError(f"Invalid SessionHandle: session 01ef-{n} has expired or was closed "
                             f"(request sent with Authorization: Bearer {TOKEN})")


def gateway_timeout(n: int) -> Exception:
    return dbx.RequestError(f"Error during request to server: 504 Gateway Timeout (statement {n})",
                            {"http-code": 504, "method": "ExecuteStatement"})


class FakeCursor:
    def __init__(self, conn):
        self.conn, self._result = conn, None

    def execute(self, text, parameters=None):
        self._result = self.conn.warehouse.execute(self.conn, text, parameters)
        return self

    def fetchall_arrow(self) -> pa.Table:
        r = self._result
        return r if isinstance(r, pa.Table) else r.toArrow()

    def close(self):
        self._result = None


class FakeConnection:
    def __init__(self, warehouse, staging_allowed_local_path):
        self.warehouse, self.allowed, self.dead, self.closed = warehouse, staging_allowed_local_path, False, False

    def cursor(self):
        if self.closed:
            raise dbx.InterfaceError("Cannot create cursor from closed connection")
        return FakeCursor(self)

    def close(self):
        self.closed = True


class FakeWarehouse:
    def __init__(self, spark, root: Path, fail_at: dict[int, tuple[str, callable]] | None = None):
        self.spark, self.root = spark, root
        self.fail_at = dict(fail_at or {})
        self.n = 0
        self.texts: list[str] = []
        self.connects = 0

    def connect(self, *, server_hostname, http_path, access_token, staging_allowed_local_path=None, **kwargs):
        assert (server_hostname, http_path, access_token) == (HOST, HTTP_PATH, TOKEN)
        self.connects += 1
        return FakeConnection(self, staging_allowed_local_path)

    def local(self, volume_path: str) -> Path:
        assert volume_path.startswith("/Volumes/")
        return self.root / volume_path.lstrip("/")

    def execute(self, conn, text: str, params):
        if conn.dead or conn.closed:
            raise dbx.DatabaseError("Invalid SessionHandle: the session is closed")
        self.n += 1
        self.texts.append(text)
        when, err = self.fail_at.get(self.n, (None, None))
        if when == "before":
            conn.dead = True
            raise err(self.n)
        out = self._run(conn, text, list(params or []))
        if when == "after":  # the statement ran, then the session died before the client heard back
            conn.dead = True
            raise err(self.n)
        return out

    # -- statement handling --
    def _check_params(self, text, params):
        from databricks.sql.parameters.native import dbsql_parameter_from_primitive

        assert text.count("?") == len(params), (text, params)
        for p in params:  # the real connector's binding: raises NotSupportedError on e.g. numpy scalars
            dbsql_parameter_from_primitive(p).as_tspark_param(named=False)

    def _spark_text(self, text: str) -> str:
        text = re.sub(r"\bcommodity\.(silver|forecast)\b", r"spark_catalog.\1", text)
        text = text.replace(" USING DELTA", " USING PARQUET")
        return text.replace("parquet.`/Volumes/", f"parquet.`{self.root}/Volumes/")

    def _sql(self, text, params):
        return self.spark.sql(text, args=params or None)

    def _run(self, conn, text: str, params: list):
        self._check_params(text, params)
        if m := _PUT_RE.match(text):
            local = os.path.abspath(m.group(1))
            assert conn.allowed and os.path.commonpath([local, os.path.abspath(conn.allowed)]) == \
                os.path.abspath(conn.allowed), "PUT outside staging_allowed_local_path"
            dest = self.local(m.group(2))
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, dest)
            return pa.table({})
        if m := _REMOVE_RE.match(text):
            self.local(m.group(1)).unlink()
            return pa.table({})
        if m := _VOLUME_RE.match(text):
            (self.root / "Volumes" / m.group(1) / m.group(2) / m.group(3)).mkdir(parents=True, exist_ok=True)
            return pa.table({})
        text = self._spark_text(text)
        if m := _REPLACE_RE.match(text):
            return self._replace_where(*m.groups(), params)
        if m := _MERGE_RE.match(text):
            return self._merge(*m.groups(), params)
        assert not text.lstrip().upper().startswith(("DELETE", "MERGE", "UPDATE")), "needs Delta: " + text
        return self._sql(text, params)

    def _merge(self, table, source, on, sets, cols, values, params):
        """MERGE INTO t USING s ON <on> WHEN MATCHED UPDATE SET .. WHEN NOT MATCHED INSERT (..) VALUES (..),
        for the upserts sql.merge_unified writes (every non-key column set to the value it would be inserted
        with): Spark evaluates the ON condition and the values; t becomes its rows no source row matches
        plus one inserted row per source row, written whole, as Delta's MERGE is atomic."""
        assert not params
        cols = [c.strip() for c in cols.split(",")]
        vals = [v.strip() for v in values.split(",")]
        assert dict(kv.split(" = ") for kv in sets.split(", ")) == \
            {c: v for c, v in zip(cols, vals) if c not in ("date", "commodity", "region")}
        target = self.spark.table(table)
        assert sorted(cols) == sorted(target.columns), "MERGE must name every column of the table"
        new = self._sql(f"SELECT {', '.join(f'{v} AS {c}' for c, v in zip(cols, vals))} FROM {source} AS s",
                        []).select(*target.columns).toArrow()
        keep = self._sql(f"SELECT t.* FROM {table} AS t LEFT ANTI JOIN {source} AS s ON {on}", []).toArrow()
        rows = pa.concat_tables([keep, new.cast(keep.schema)])
        self.spark.createDataFrame(rows, schema=target.schema).write.insertInto(table, overwrite=True)
        return pa.table({})

    def _replace_where(self, table, pred, query, params):
        assert "SELECT" not in pred.upper(), "Delta's REPLACE WHERE takes no subquery in the predicate"
        target = self.spark.table(table)
        # The new rows, and whether each satisfies the predicate (Delta's replaceWhere constraint
        # check), in one Spark job; materialized, as the query may read the table being replaced.
        new = self._sql(f"SELECT q.*, NOT COALESCE(({pred}), FALSE) AS replace_where_outside "
                        f"FROM ({query}) AS q", params).toArrow()
        outside = new.column("replace_where_outside").to_pylist()
        if any(outside):
            raise dbx.ServerOperationError(f"[DELTA_REPLACE_WHERE_MISMATCH] {sum(outside)} written rows do not "
                                           f"satisfy the replaceWhere predicate {pred}")
        new = new.drop_columns(["replace_where_outside"])
        assert new.num_columns == len(target.columns), "INSERT column count differs from the table"
        new = new.rename_columns(target.columns)
        keep = self._sql(f"SELECT * FROM {table} WHERE NOT COALESCE(({pred}), FALSE)",
                         params[:pred.count("?")]).toArrow()
        rows = pa.concat_tables([keep, new.cast(keep.schema)])
        df = self.spark.createDataFrame(rows, schema=target.schema) if rows.num_rows else \
            self.spark.createDataFrame([], target.schema)
        df.write.insertInto(table, overwrite=True)
        return pa.table({})


# -- fixtures --------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java for Spark")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    wh = tmp_path_factory.mktemp("spark-warehouse")
    s = (SparkSession.builder.master("local[1]").appName("test_databricks_sql")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "1")
         .config("spark.sql.warehouse.dir", str(wh)).config("spark.sql.session.timeZone", "UTC")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         # tiny data, many short statements: quick JVM warm-up (C1 only), no adaptive re-planning
         .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
         .config("spark.sql.adaptive.enabled", "false")
         .getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


@pytest.fixture
def warehouse(spark, tmp_path):
    for schema in ("silver", "forecast"):
        spark.sql(f"DROP SCHEMA IF EXISTS spark_catalog.{schema} CASCADE")
    return FakeWarehouse(spark, tmp_path / "volumes")


def make_store(warehouse, lines=None, **kw) -> DatabricksSQLStore:
    store = DatabricksSQLStore(HOST, HTTP_PATH, TOKEN, connect=warehouse.connect,
                               log=(lines.append if lines is not None else None), **kw)
    store.retry_wait = wait_none()
    return store


@pytest.fixture
def lines():
    return []


@pytest.fixture
def store(warehouse, lines):
    s = make_store(warehouse, lines)
    s.ensure_schema()
    return s


def _batch(coffee_daily, days, n_paths=N_PATHS, model="naive"):
    t = train(model, "Coffee", coffee_daily, date(2024, 1, 1), 14)
    d = np.asarray(days, dtype="datetime64[D]")
    return forecast(t, coffee_daily, d, n_paths=n_paths, seeds=day_seeds(1, "Coffee", model, "v1.0", d), horizon=14,
                    calendar=Calendar(ICE_SOFTS))


def _write(store, b, days, version="v1.0", model="naive"):
    store.replace_forecasts("Coffee", model, version, days, distribution_rows(b, version), point_rows(b, version))


def _rows(spark, table):
    """The whole table as pandas (read by Spark directly, not through the store): tiny here."""
    return spark.table(table.replace("commodity.", "spark_catalog.", 1)).toArrow().to_pandas()


DIST_KEY = ["commodity", "model_name", "model_version", "forecast_start_date", "path_id"]
POINTS_KEY = ["commodity", "model_name", "model_version", "forecast_start_date", "day_ahead"]


def _no_duplicates(spark):
    d, p = _rows(spark, DIST), _rows(spark, POINTS)
    assert not d.duplicated(DIST_KEY).any() and not p.duplicated(POINTS_KEY).any()
    return d, p


# -- 1. real Spark SQL on real tables ---------------------------------------------


def test_ensure_schema_creates_the_contract_columns(store, warehouse, spark):
    store.ensure_schema()  # idempotent
    creates = [t for t in warehouse.texts if t.startswith("CREATE TABLE")]
    assert creates and all(t.endswith(" USING DELTA") for t in creates)
    for name in TABLES:
        assert _rows(spark, qualified(name)).columns.tolist() == columns(name, 14)
    types = {f.name: f.dataType.simpleString() for f in spark.table("spark_catalog.forecast.distributions").schema}
    assert types["day_1"] == "float" and types["forecast_start_date"] == "date" and types["path_id"] == "int"
    assert types["generation_timestamp"] == "timestamp" and types["is_actuals"] == "boolean"
    assert (warehouse.root / "Volumes/commodity/forecast/staging").is_dir()


def test_replace_forecasts_replaces_exactly_the_days(store, warehouse, spark, coffee_daily, lines):
    days = [date(2024, 2, 1) + timedelta(days=i) for i in range(10)]
    b = _batch(coffee_daily, days)
    _write(store, b, days)
    d, p = _no_duplicates(spark)
    n1 = len(d)
    assert n1 == 10 * N_PATHS + int(np.isfinite(b.actuals).all(axis=1).sum()) and len(p) == 140
    # Another version, and an overlapping range: no duplicates, other versions untouched.
    _write(store, b, days, "v2.0")
    b2 = _batch(coffee_daily, days[5:])
    _write(store, b2, days[5:])
    d, p = _no_duplicates(spark)
    assert d["model_version"].value_counts().to_dict() == {"v1.0": n1, "v2.0": n1}
    assert p["model_version"].value_counts().to_dict() == {"v1.0": 140, "v2.0": 140}

    st = store.forecast_status("Coffee", "naive", "v1.0", days[0], days[-1])
    assert st["n_paths"].tolist() == [N_PATHS] * 10 and st["n_points"].tolist() == [14] * 10
    assert st["all_success"].tolist() == [1] * 10
    assert (st["model_fingerprint"] == b.model_fingerprint).all()
    assert [d.date() for d in st["forecast_start_date"]] == days

    # One REPLACE WHERE per table per write, distributions before point_forecasts; staged files removed.
    replaces = [t.split("\n")[0] for t in warehouse.texts if " REPLACE WHERE " in t]
    assert len(replaces) == 6 and all(DIST in r for r in replaces[0::2]) and all(POINTS in r for r in replaces[1::2])
    assert "forecast_start_date BETWEEN ? AND ?" in replaces[0]
    assert not [p for p in (warehouse.root / "Volumes").rglob("*.parquet")]
    assert sum("REMOVE '/Volumes/" in t for t in warehouse.texts) == 6
    assert len([line for line in lines if "replace_forecasts" in line and "rows" in line]) == 3

    # Non-contiguous days: exactly those days are replaced, the days between them are kept.
    odd = [days[1], days[3], days[4]]
    b3 = _batch(coffee_daily, odd)
    _write(store, b3, odd, "v2.0")
    d, p = _no_duplicates(spark)
    assert (d["model_version"] == "v2.0").sum() == n1 and (p["model_version"] == "v2.0").sum() == 140


def test_unified_models_paths_actuals_and_scores(store, warehouse, spark, coffee_daily, sample_unified):
    # unified_data round trip (a small slice: Spark is slow per row, not per statement)
    sl = sample_unified[(sample_unified["commodity"] == "Coffee") & (sample_unified["date"] >= "2023-10-01")
                        & (sample_unified["date"] < "2024-06-01")]
    v0 = store.unified_version()
    assert store.replace_unified(sl) == len(sl)
    assert store.replace_unified(sl) == len(sl)  # replace, not append
    v1 = store.unified_version()
    assert v1 != v0
    back = store.read_unified("Coffee", date(2024, 1, 1), date(2024, 1, 31))
    want = sl[(sl["date"] >= "2024-01-01") & (sl["date"] <= "2024-01-31")]
    assert len(back) == len(want) and back["date"].min() == want["date"].min()
    assert np.allclose(np.sort(back["close"].to_numpy()), np.sort(want["close"].to_numpy()))
    fx = [c for c in sl.columns if c.endswith("_usd")]
    assert fx and set(fx) <= set(back.columns)  # FX columns were added to the table
    summary = store.unified_summary()
    assert summary["n_rows"].tolist() == [len(sl)] and summary["n_regions"].tolist() == [sl["region"].nunique()]

    # trained_models: write twice, one row, the last one
    row = {c: None for c in columns("trained_models")} | {
        "commodity": "Coffee", "model_name": "naive", "model_version": "v1.0", "window_start": date(2024, 1, 1),
        "training_cutoff_date": date(2023, 12, 29), "fitted_model_json": "{}", "year": np.int64(2023),
        "month": 12, "created_at": np.datetime64("2024-01-02T03:04:05")}
    store.write_trained_model(row)
    store.write_trained_model(row | {"fitted_model_json": '{"a":1}'})
    assert len(_rows(spark, qualified("trained_models"))) == 1
    got = store.read_trained_model("Coffee", "naive", "v1.0", date(2024, 1, 1))
    assert got["fitted_model_json"] == '{"a":1}' and got["year"] == 2023
    assert str(got["created_at"]) == "2024-01-02 03:04:05"
    assert store.read_trained_model("Coffee", "naive", "v1.0", date(2024, 7, 1)) is None

    # forecasts made before the actuals were known, then actuals attached (path 0 + actual_close)
    days = [date(2024, 4, 1) + timedelta(days=i) for i in range(3)]
    b = _batch(coffee_daily[coffee_daily.index < "2024-04-01"], days)
    assert np.isnan(b.actuals).all()
    _write(store, b, days)
    pts, paths = store.read_paths("Coffee", "naive", "v1.0", days[0], days[-1])
    assert paths.shape == (3, N_PATHS, 14) and len(pts) == 42
    assert np.allclose(paths, b.prices, rtol=1e-6)
    from forecast_assets.runs.actuals import attach_actuals

    complete, partial = attach_actuals(store, "Coffee", days, Calendar(ICE_SOFTS))
    assert (complete, partial) == (3, 3)
    attach_actuals(store, "Coffee", days, Calendar(ICE_SOFTS))  # idempotent
    d, p = _no_duplicates(spark)
    assert ((d["path_id"] == 0) & d["is_actuals"]).sum() == 3 and len(d) == 3 * N_PATHS + 3
    assert p["actual_close"].notna().all() and len(p) == 42
    day1 = d[(d["path_id"] == 0) & (d["forecast_start_date"] == days[0])]
    assert day1["day_1"].iloc[0] == pytest.approx(coffee_daily.loc["2024-04-01", "close"], rel=1e-6)
    st = store.forecast_status("Coffee", "naive", "v1.0", days[0], days[-1])
    assert st["has_actuals"].tolist() == [1, 1, 1] and st["n_paths"].tolist() == [N_PATHS] * 3

    # scores and the comparison (replace_scores, replace_performance), through evaluate
    from forecast_assets.runs.scoring import model_performance, score_days

    res = score_days(store, "Coffee", days)
    perf = model_performance(store)
    assert res.forecasts_scored == 3 and res.forecasts_complete == 3
    assert len(_rows(spark, qualified("forecast_metadata"))) == 3
    assert len(_rows(spark, qualified("forecast_scores"))) == 3 * 14
    assert len(_rows(spark, qualified("model_performance"))) == len(perf) > 0

    # the named reads of the checks, pictures and summary, run by Spark SQL
    assert store.model_versions("Coffee", days[0], days[-1]).values.tolist() == [["naive", "v1.0"]]
    assert store.failed_days("Coffee", "naive", "v1.0", days[0], days[-1]).empty
    steps = store.day_steps("Coffee", "naive", "v1.0", days[0], days[-1], (1, 14))  # a partition's UI numbers
    assert steps["day_ahead"].tolist() == [1, 14] * 3 and steps["model_success"].all()
    assert len(store.read_scores()) == 42 and store.read_scores(end=days[0] - timedelta(days=1)).empty
    assert len(store.read_pit()) == 42
    acts = store.member_actuals("Coffee", ["naive", "xgboost"], "v1.0", days[0], days[-1])  # the ensemble's read
    assert len(acts) == 42 and set(acts["model_name"]) == {"naive"} and acts["actual_close"].notna().all()
    latest = store.latest_scored_days()
    assert latest[["commodity", "model_name", "model_version"]].values.tolist() == [["Coffee", "naive", "v1.0"]]
    assert latest["d"].iloc[0].date() == days[-1]
    checks = store.stored_forecast_checks("Coffee", "naive", "v1.0", days[0], days[-1])
    assert checks.leakage_rows == 0
    assert checks.paths["n_paths"].tolist() == [N_PATHS] * 3 and checks.paths["n_bad"].tolist() == [0] * 3
    assert checks.points["n_points"].tolist() == [14] * 3 and checks.points["ok"].tolist() == [1] * 3
    assert store.leaking_scored("Coffee", days[0], days[-1]) == 0
    assert store.missing_scored_days("Coffee", days[0], days[-1]).empty
    assert store.trained_models_summary()["windows"].tolist() == [1]
    summary = store.forecasts_summary()
    assert summary[["days", "point_rows", "distribution_rows", "actuals_rows"]].values.tolist() == [
        [3, 42, 3 * N_PATHS + 3, 3]]


def test_a_catalog_made_with_14_is_refused_under_21_and_migrated(store, warehouse, spark, coffee_daily):
    from forecast_assets.storage.horizon import HorizonMismatchError, migrate

    days = [date(2024, 2, 1), date(2024, 2, 2)]
    _write(store, _batch(coffee_daily, days), days)
    row = {c: None for c in columns("trained_models")} | {
        "commodity": "Coffee", "model_name": "naive", "model_version": "v1.0", "window_start": date(2024, 1, 1),
        "training_cutoff_date": date(2023, 12, 29), "fitted_model_json": "{}"}
    store.write_trained_model(row)
    n_dist, n_points = len(_rows(spark, DIST)), len(_rows(spark, POINTS))
    wider = make_store(warehouse, horizon=21)
    with pytest.raises(HorizonMismatchError, match=r"catalog commodity: the forecast tables were made for a "
                                                   r"horizon of 14 steps, but FORECAST_HORIZON is 21"):
        wider.ensure_schema()
    plan = migrate(wider)
    assert not plan.done and plan.stored == 14 and plan.rows["distributions"] == n_dist
    assert plan.rows["point_forecasts"] == n_points and plan.rows["forecast_metadata"] == 0
    assert len(_rows(spark, DIST)) == n_dist  # only counted
    assert migrate(wider, yes=True).done
    wider.ensure_schema()
    live = wider.live_columns(("distributions", "forecast_metadata"))
    assert [c for c in live["distributions"] if c.startswith("day_")] == [f"day_{k}" for k in range(1, 22)]
    assert "crps_10d" in live["forecast_metadata"] and "crps_21d" in live["forecast_metadata"]
    assert len(_rows(spark, DIST)) == 0 and len(_rows(spark, POINTS)) == 0
    assert len(_rows(spark, qualified("trained_models"))) == 1  # kept
    with pytest.raises(HorizonMismatchError, match="made for a horizon of 21 steps, but FORECAST_HORIZON is 14"):
        store.ensure_schema()


def test_a_catalog_made_before_the_added_columns_gets_them(warehouse, spark, coffee_daily):
    """Delta tables that predate schema.ADDED: ensure_schema appends exactly those columns (old rows NULL),
    in the order a new catalog has them (inserts are by position), and forecasts write into them."""
    from forecast_assets.storage.schema import ADDED, table_columns

    added = {t: {c for c, _ in cols} for t, cols in ADDED.items()}
    for schema in ("silver", "forecast"):
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS spark_catalog.{schema}")
    for t in TABLES:
        cols = [(c, ty) for c, ty in table_columns(t, 14) if c not in added.get(t, set())]
        spark.sql(f"CREATE TABLE {qualified(t).replace('commodity.', 'spark_catalog.', 1)} "
                  f"({', '.join(f'{c} {ty}' for c, ty in cols)}) USING PARQUET")  # the stand-in's Delta
    spark.sql("INSERT INTO spark_catalog.forecast.point_forecasts (forecast_start_date, day_ahead, commodity, "
              "model_name, model_version, forecast_mean, upper_95) VALUES (DATE'2024-01-02', 1, 'Coffee', 'naive', "
              "'v0', 1.0, 1.5)")
    store = make_store(warehouse)
    store.ensure_schema()
    for t in TABLES:
        assert _rows(spark, qualified(t)).columns.tolist() == columns(t, 14)
    alters = [t for t in warehouse.texts if t.startswith("ALTER TABLE")]
    assert len(alters) == sum(len(v) for v in ADDED.values())
    store.ensure_schema()  # nothing left to add
    assert len([t for t in warehouse.texts if t.startswith("ALTER TABLE")]) == len(alters)
    old = _rows(spark, POINTS).iloc[0]
    assert old["forecast_mean"] == 1.0 and old["upper_95"] == 1.5
    assert all(old[c] is None or np.isnan(old[c]) for c, _ in ADDED["point_forecasts"])
    days = [date(2024, 2, 1), date(2024, 2, 2)]
    _write(store, _batch(coffee_daily, days), days)
    new = _rows(spark, POINTS)
    new = new[new["model_version"] == "v1.0"]
    assert len(new) == 28 and new[["forecast_median", "lower_80", "upper_80", "lower_50", "upper_50"]].notna().all().all()
    assert (new["lower_80"] <= new["forecast_median"]).all() and (new["forecast_median"] <= new["upper_80"]).all()


def test_a_failed_write_leaves_the_day_incomplete(warehouse, spark, coffee_daily, lines):
    store = make_store(warehouse, lines)
    store.ensure_schema()
    days = [date(2024, 3, 1) + timedelta(days=i) for i in range(5)]
    b = _batch(coffee_daily, days)
    _write(store, b, days)
    before = [len(t) for t in _no_duplicates(spark)]
    # rows that do not fit the table are refused before anything is sent
    bad = point_rows(b, "v1.0").drop_columns(["forecast_mean"]).append_column(
        "forecast_mean", pa.array(["not a number"] * (5 * 14)))
    with pytest.raises(StorageError, match="forecast_mean"):
        store.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b, "v1.0"), bad)
    # rows outside the replaced key are refused too (Delta would reject them)
    with pytest.raises(StorageError, match="outside"):
        store.replace_forecasts("Coffee", "naive", "v1.0", days[:2], distribution_rows(b, "v1.0"),
                                point_rows(b, "v1.0"))
    assert [len(t) for t in _no_duplicates(spark)] == before

    # The process dies between the two tables (no retry left): distributions of new days are
    # written, their point_forecasts are not, so status does not list those days as done.
    new_days = [date(2024, 3, 11) + timedelta(days=i) for i in range(3)]
    nb = _batch(coffee_daily, new_days)
    one_shot = make_store(warehouse, lines, max_attempts=1)
    start = warehouse.n
    # statements: PUT, PUT, REPLACE distributions, REPLACE point_forecasts
    warehouse.fail_at = {start + 4: ("before", session_dropped)}
    with pytest.raises(StorageError, match="after 1 attempts"):
        _write(one_shot, nb, new_days)
    d = _rows(spark, DIST)
    assert (d["forecast_start_date"] >= date(2024, 3, 11)).sum() == 3 * N_PATHS + \
        int(np.isfinite(nb.actuals).all(axis=1).sum())
    st = store.forecast_status("Coffee", "naive", "v1.0", new_days[0], new_days[-1])
    assert st.empty  # not counted as done: the pipeline recomputes these days


# -- 2. session drops mid-backfill ------------------------------------------------------


def test_session_drops_mid_backfill_are_retried_without_duplicates(warehouse, spark, coffee_daily, lines):
    store = make_store(warehouse, lines)
    store.ensure_schema()
    windows = [[date(2024, 1, 8) + timedelta(days=7 * w + i) for i in range(5)] for w in range(3)]
    batches = [_batch(coffee_daily, days) for days in windows]
    # Each write: PUT, PUT, REPLACE distributions, REPLACE point_forecasts, then REMOVE, REMOVE.
    # 3rd statement of the backfill: the session is gone before it runs; the 7th ran, then the session died.
    start = warehouse.n
    warehouse.fail_at = {start + 3: ("before", session_dropped), start + 7: ("after", gateway_timeout)}
    connects = warehouse.connects
    for days, b in zip(windows, batches):
        _write(store, b, days)
    assert warehouse.connects - connects == 2  # a fresh session after each drop
    d, _ = _no_duplicates(spark)
    for days, b in zip(windows, batches):
        st = store.forecast_status("Coffee", "naive", "v1.0", days[0], days[-1])
        assert st["n_paths"].tolist() == [N_PATHS] * 5 and st["n_points"].tolist() == [14] * 5
        inside = (d["forecast_start_date"] >= days[0]) & (d["forecast_start_date"] <= days[-1])
        assert inside.sum() == 5 * N_PATHS + int(np.isfinite(b.actuals).all(axis=1).sum())
    retries = [line for line in lines if "attempt" in line]
    assert len(retries) == 2, lines
    assert "attempt 1/5" in retries[0] and "DatabaseError" in retries[0] and "504" in retries[1]
    assert all(TOKEN not in line for line in lines)


# -- 3. secrets (no Spark) ----------------------------------------------------------------


class _Broken:
    """A warehouse whose every statement fails with a session error that (badly) quotes the token."""

    def __init__(self):
        self.connects = 0

    def connect(self, **kwargs):
        self.connects += 1
        outer = self

        class Conn:
            def cursor(self):
                class Cur:
                    def execute(self, text, parameters=None):
                        raise session_dropped(outer.connects)

                    def close(self):
                        pass

                return Cur()

            def close(self):
                pass

        return Conn()


def test_the_token_never_leaks():
    lines, broken = [], _Broken()
    store = DatabricksSQLStore(HOST, HTTP_PATH, TOKEN, connect=broken.connect, log=lines.append, max_attempts=3)
    store.retry_wait = wait_none()
    assert TOKEN not in repr(store) and TOKEN not in str(vars(store))
    with pytest.raises(StorageError) as ei:
        store.read_pit()
    err = ei.value
    assert broken.connects == 3 and "after 3 attempts" in str(err) and "session" in str(err).lower()
    text = "".join(traceback.format_exception(err)) + repr(err) + str(err)
    assert TOKEN not in text
    assert len(lines) == 2 and all(TOKEN not in line for line in lines)


def test_non_transient_errors_are_not_retried():
    calls = []

    class Conn:
        def cursor(self):
            class Cur:
                def execute(self, text, parameters=None):
                    calls.append(text)
                    raise dbx.ServerOperationError("[TABLE_OR_VIEW_NOT_FOUND] The table or view "
                                                   "`commodity`.`forecast`.`distributions` cannot be found.")

                def close(self):
                    pass

            return Cur()

        def close(self):
            pass

    store = DatabricksSQLStore(HOST, HTTP_PATH, TOKEN, connect=lambda **kw: Conn(), log=lambda _: None)
    store.retry_wait = wait_none()
    with pytest.raises(StorageError, match="ensure_schema"):
        store.forecast_status("Coffee", "naive", "v1.0", date(2024, 1, 1), date(2024, 1, 2))
    assert len(calls) == 1


def test_other_catalog_and_idle_reconnect():
    sent, opened = [], []

    class Conn:
        def cursor(self):
            class Cur:
                def execute(self, text, parameters=None):
                    sent.append(text)

                def fetchall_arrow(self):  # a count where the statement makes one, else no rows
                    return pa.table({"n": [1] if re.search(r"\bAS n\b", sent[-1]) else []})

                def close(self):
                    pass

            return Cur()

        def close(self):
            pass

    def connect(**kw):
        opened.append(kw)
        return Conn()

    store = DatabricksSQLStore(HOST, HTTP_PATH, TOKEN, catalog="commodity_dev",
                               staging_volume="/Volumes/commodity_dev/forecast/staging", connect=connect)
    key, day = ("Coffee", "naive", "v1.0"), date(2024, 1, 2)
    store.forecast_status(*key, date(2024, 1, 1), day)
    assert "commodity_dev.forecast.distributions" in sent[0] and "commodity_dev.forecast.point_forecasts" in sent[0]
    # Every read builds its SQL with the store's catalog: nothing is rewritten, nothing names the default one.
    for read in (lambda: store.model_versions("Coffee", day, day), lambda: store.failed_days(*key, day, day),
                 lambda: store.read_scores(day, day), store.read_pit, store.latest_scored_days,
                 lambda: store.stored_forecast_checks(*key, day, day), lambda: store.leaking_scored("Coffee", day, day),
                 lambda: store.missing_scored_days("Coffee", day, day), store.trained_models_summary,
                 store.forecasts_summary, store.unified_summary, lambda: store.read_trained_model(*key, day),
                 lambda: store.member_actuals("Coffee", ["naive", "xgboost"], "v1.0", day, day)):
        read()
    assert len(sent) == 18 and all("commodity_dev." in t for t in sent)  # stored_forecast_checks: 4 reads
    assert not [t for t in sent if re.search(r"(?<![\w.`])commodity\.", t)]
    assert len(opened) == 1 and opened[0]["staging_allowed_local_path"]  # one cached session
    assert opened[0]["_retry_stop_after_attempts_duration"] <= 300  # the connector may not hang for 15 min
    store._last_used = time.monotonic() - store.MAX_IDLE_S - 1  # idle past the warehouse's session timeout
    store.read_pit()
    assert len(opened) == 2


# -- 4. configuration ------------------------------------------------------------------------

ENV = {"DATABRICKS_HOST": f"https://{HOST}/", "DATABRICKS_HTTP_PATH": HTTP_PATH, "DATABRICKS_TOKEN": TOKEN}


@pytest.mark.parametrize("var", ["DATABRICKS_HOST", "DATABRICKS_HTTP_PATH", "DATABRICKS_TOKEN"])
def test_from_settings_names_the_missing_variable(var):
    env = {k: v for k, v in ENV.items() if k != var}
    with pytest.raises(StorageError, match=var) as ei:
        DatabricksSQLStore.from_settings(Settings(), env)
    assert TOKEN not in str(ei.value)


def test_from_settings_defaults_and_unsafe_names():
    s = DatabricksSQLStore.from_settings(Settings.from_env(ENV), ENV)
    assert (s.server_hostname, s.catalog) == (HOST, "commodity")
    assert s.staging_volume == "/Volumes/commodity/forecast/staging"
    s = DatabricksSQLStore.from_settings(Settings.from_env(ENV | {"FORECAST_DATABRICKS_CATALOG": "fc_dev"}), ENV)
    assert (s.catalog, s.staging_volume) == ("fc_dev", "/Volumes/fc_dev/forecast/staging")
    for bad in ("commodity; DROP TABLE x", "a.b", "x`y", "1abc", "comm odity"):
        with pytest.raises(ConfigError, match="FORECAST_DATABRICKS_CATALOG"):
            Settings.from_env(ENV | {"FORECAST_DATABRICKS_CATALOG": bad})
        with pytest.raises(StorageError, match="catalog"):
            DatabricksSQLStore(HOST, HTTP_PATH, TOKEN, catalog=bad)
    for bad in ("/tmp/x", "/Volumes/a/b", "/Volumes/a/b/c/../../d", "/Volumes/a/b/c' OR '1", "/Volumes/a/b/c/x y"):
        with pytest.raises(StorageError, match="volume"):
            DatabricksSQLStore(HOST, HTTP_PATH, TOKEN, staging_volume=bad)
        with pytest.raises(ConfigError, match="FORECAST_DATABRICKS_VOLUME"):
            Settings.from_env(ENV | {"FORECAST_DATABRICKS_VOLUME": bad})


def test_merge_unified_upserts_by_key_and_keeps_the_rest(store, warehouse, spark, sample_unified):
    """forecast-assets import's merge on Databricks: one MERGE INTO (sql.merge_unified) by date, commodity
    and region; stored rows the merge does not name are kept, named ones replaced, new ones inserted."""
    sl = sample_unified[(sample_unified["commodity"] == "Coffee") & (sample_unified["date"] >= "2024-01-01")
                        & (sample_unified["date"] < "2024-03-01")]
    old, new = sl[sl["date"] < "2024-02-01"], sl[sl["date"] >= "2024-01-31"].copy()
    store.replace_unified(old)
    new.loc[new["date"] == "2024-01-31", "close"] *= 1.1  # a revised close on a stored day
    v0 = store.unified_version()
    assert store.merge_unified(new) == len(new)
    assert sum(t.startswith("MERGE INTO ") for t in warehouse.texts) == 1
    assert store.unified_version() != v0
    back = store.read_unified("Coffee")
    assert len(back) == len(sl) and not back.duplicated(["date", "region"]).any()
    rev = back[back["date"] == pd.Timestamp("2024-01-31")]["close"].to_numpy()
    want = sl[sl["date"] == "2024-01-31"]["close"].to_numpy() * 1.1
    assert np.allclose(rev, want)
    kept = back[back["date"] < pd.Timestamp("2024-01-31")].sort_values(["date", "region"])
    assert np.allclose(kept["close"].to_numpy(), old[old["date"] < "2024-01-31"].sort_values(
        ["date", "region"])["close"].to_numpy())
