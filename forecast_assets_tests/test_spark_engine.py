"""The Spark path for real on local Spark: same paths as the local engine for the same seed."""

import dataclasses
import os
import sys
from datetime import date, timedelta

import pandas as pd
import pytest

from forecast_assets.runs import forecasting, spark_engine, training
from forecast_assets.config import ConfigError
from forecast_assets.storage.delta import DeltaStore
from forecast_assets.storage.schema import columns, day_columns, qualified
from forecast_assets_tests.read_sql import read_sql

DAY_COLUMNS = day_columns(14)

pyspark = pytest.importorskip("pyspark")
DAYS = [date(2024, 6, 25) + timedelta(days=i) for i in range(12)]  # crosses a window boundary


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers need this interpreter's packages
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    s = (SparkSession.builder.master("local[2]").appName("forecast-assets-tests")
         .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    yield s


def write_parquet(frames: dict, root: str) -> dict[str, str]:
    """The engine's frames as one Parquet dataset per table (partitioned by commodity and model), to read back."""
    out = {}
    for kind, df in frames.items():
        out[kind] = f"{root}/{kind}"
        df.write.mode("overwrite").partitionBy("commodity", "model_name").parquet(out[kind])
    return out


def test_spark_backfill_gives_the_local_engines_paths(spark, store, settings, tmp_path):
    s = dataclasses.replace(settings, n_paths=300)
    for m in ("naive", "sarimax_auto_weather"):
        training.train_windows(store, s, m, "Coffee", [date(2024, 1, 1), date(2024, 7, 1)], "test")
        forecasting.forecast_days(store, s, m, "Coffee", DAYS)
    with spark_engine.forecast_frames(spark, store, s, ["naive", "sarimax_auto_weather"], {"Coffee": DAYS}) as (
            tasks, frames):
        assert len(tasks) == 4  # 2 models x 2 windows: the groups Spark fans out
        written = write_parquet(frames, str(tmp_path / "spark"))
    dist = spark.read.parquet(written["distributions"]).toPandas()
    pts = spark.read.parquet(written["point_forecasts"]).toPandas()
    assert set(columns("distributions", 14)) == set(dist.columns)
    assert set(columns("point_forecasts")) == set(pts.columns)
    assert len(pts) == 2 * len(DAYS) * 14
    # Each group was forecast once for both tables: a day's rows carry one generation timestamp in both.
    stamps = [df.groupby(["model_name", "forecast_start_date"])["generation_timestamp"].agg(["min", "max"])
              for df in (dist, pts)]
    assert (stamps[0]["min"] == stamps[0]["max"]).all()
    pd.testing.assert_frame_equal(stamps[0], stamps[1])

    local = read_sql(store, f"SELECT * FROM {qualified('distributions')}")
    key = ["model_name", "forecast_start_date", "path_id"]
    for df in (dist, local):
        df["forecast_start_date"] = pd.to_datetime(df["forecast_start_date"])
    both = local.merge(dist, on=key, suffixes=("_local", "_spark"))
    assert len(both) == len(local) == len(dist) == 2 * len(DAYS) * 301
    for c in [*DAY_COLUMNS, "data_cutoff_date", "is_actuals", "training_cutoff_date", "model_fingerprint"]:
        assert (both[f"{c}_local"] == both[f"{c}_spark"]).all(), c  # bit-identical
    assert not dist["has_data_leakage"].any()

    local_pts = read_sql(store, f"SELECT * FROM {qualified('point_forecasts')}")
    for df in (pts, local_pts):
        df["forecast_start_date"] = pd.to_datetime(df["forecast_start_date"])
    both = local_pts.merge(pts, on=["model_name", "forecast_start_date", "day_ahead"], suffixes=("_local", "_spark"))
    assert len(both) == len(local_pts) == len(pts)
    for c in ("forecast_date", "forecast_mean", "forecast_std", "lower_95", "upper_95", "model_success"):
        assert (both[f"{c}_local"] == both[f"{c}_spark"]).all(), c


def test_replace_where_predicates_only_take_safe_names():
    with pytest.raises(Exception, match="not allowed"):
        DeltaStore("commodity").replace_forecasts({}, "v1.0", [("Coffee'; DROP TABLE x", "naive", [date(2024, 1, 2)])])


class _Recorded:
    """A Spark DataFrame's write chain as DeltaStore uses it, recorded (no Delta jars here)."""

    def __init__(self, calls, table):
        self.calls, self.table, self.write = calls, table, self

    def where(self, rows):
        self.calls.append(("rows", self.table, rows))
        return self

    def format(self, f):
        assert f == "delta"
        return self

    def mode(self, m):
        assert m == "overwrite"
        return self

    def option(self, key, pred):
        self.calls.append((key, self.table, pred))
        return self

    def saveAsTable(self, name):
        self.calls.append(("table", self.table, name))


def test_delta_store_replaces_each_groups_days_in_its_catalog():
    calls = []
    frames = {t: _Recorded(calls, t) for t in ("distributions", "point_forecasts")}
    DeltaStore("commodity_dev").replace_forecasts(frames, "v1.0", [("Coffee", "naive", DAYS[:3])])
    days = "forecast_start_date BETWEEN '2024-06-25' AND '2024-06-27'"
    for t in frames:
        assert ("rows", t, f"commodity = 'Coffee' AND model_name = 'naive' AND {days}") in calls
        assert ("replaceWhere", t, f"commodity = 'Coffee' AND model_name = 'naive' AND model_version = 'v1.0' "
                                   f"AND (COALESCE(vintage, 1) = 1 AND {days})") in calls
        assert ("table", t, f"commodity_dev.forecast.{t}") in calls


def test_delta_store_replaces_exactly_the_days_computed_not_the_complete_days_between():
    """A plan skips complete days; replacing first..last would delete their rows."""
    calls = []
    frames = {"point_forecasts": _Recorded(calls, "point_forecasts")}
    gappy = [date(2024, 6, 25), date(2024, 6, 26), date(2024, 6, 29), date(2024, 7, 3)]
    DeltaStore("commodity").replace_forecasts(frames, "v1.0", [("Coffee", "naive", gappy)])
    pred = next(p for k, _, p in calls if k == "replaceWhere")
    assert pred.endswith("AND (COALESCE(vintage, 1) = 1 AND (forecast_start_date BETWEEN '2024-06-25' AND "
                         "'2024-06-26' OR forecast_start_date BETWEEN '2024-06-29' AND '2024-06-29' OR "
                         "forecast_start_date BETWEEN '2024-07-03' AND '2024-07-03'))")
    # A new vintage of some days replaces only that vintage of them: earlier vintages stay.
    calls.clear()
    DeltaStore("commodity").replace_forecasts(frames, "v1.0", [("Coffee", "naive", gappy[:2], [2, 3])])
    pred = next(p for k, _, p in calls if k == "replaceWhere")
    assert pred.endswith("AND ((COALESCE(vintage, 1) = 2 AND forecast_start_date BETWEEN '2024-06-25' AND "
                         "'2024-06-25') OR (COALESCE(vintage, 1) = 3 AND forecast_start_date BETWEEN '2024-06-26' "
                         "AND '2024-06-26'))")
    with pytest.raises(ConfigError):
        DeltaStore("commodity").replace_forecasts(frames, "v1.0", [("Coffee", "naive", ["2024-06-25' OR 1=1 --"])])


def test_a_large_range_goes_through_spark_when_dagster_runs_it(spark, store, settings):
    import dagster as dg
    from dagster_pyspark import PySparkResource

    from forecast_assets.definitions import build_definitions, build_resources

    s = dataclasses.replace(settings, spark="local", spark_min_days=20, n_paths=200)
    defs = build_definitions(s)
    resources = {**build_resources(s), "pyspark": PySparkResource(spark_config={"spark.master": "local[2]", "spark.ui.enabled": "false"})}
    assets = {a.key.to_user_string(): a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and len(a.keys) == 1}
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([assets["trained_models/naive"]], instance=instance, resources=resources,
                   partition_key="Coffee|2024-01-01")
    tags = {"dagster/asset_partition_range_start": "Coffee|2024-01-01",
            "dagster/asset_partition_range_end": "Coffee|2024-01-31"}
    result = dg.materialize([assets["forecasts/naive"]], instance=instance, resources=resources, tags=tags)
    assert all(c.passed for c in result.get_asset_check_evaluations())
    logs = [e.message for e in instance.all_logs(result.run_id) if e.message]
    assert any("spark backfill: 31 forecast days" in m for m in logs)
    q = (f"SELECT forecast_start_date, path_id, {', '.join(DAY_COLUMNS)} FROM {qualified('distributions')}_latest "
         f"ORDER BY 1, 2")
    by_spark = read_sql(store, q)
    assert len(by_spark) == 31 * 201
    forecasting.forecast_days(store, s, "naive", "Coffee", [date(2024, 1, 1) + timedelta(days=i) for i in range(31)],
                           force=True)  # the local engine recomputes them (vintage 2, now the latest)
    pd.testing.assert_frame_equal(read_sql(store, q), by_spark)
    # A rerun skips what is complete, on Spark too.
    result = dg.materialize([assets["forecasts/naive"]], instance=instance, resources=resources, tags=tags)
    logs = [e.message for e in instance.all_logs(result.run_id) if e.message]
    assert any("already complete" in m for m in logs)
