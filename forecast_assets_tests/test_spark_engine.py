"""The Spark path for real on local Spark: same paths as the local engine for the same seed."""

import dataclasses
import os
import sys
from datetime import date, timedelta

import pandas as pd
import pytest

from forecast_assets import pipeline, spark_engine
from forecast_assets.storage.schema import DAY_COLUMNS, columns, qualified

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


def test_spark_backfill_gives_the_local_engines_paths(spark, store, settings, tmp_path):
    s = dataclasses.replace(settings, n_paths=300)
    for m in ("naive", "sarimax_auto_weather"):
        pipeline.train_windows(store, s, m, "Coffee", [date(2024, 1, 1), date(2024, 7, 1)], "test")
        pipeline.forecast_days(store, s, m, "Coffee", DAYS)
    tasks, frames = spark_engine.forecast_frames(spark, store, s, ["naive", "sarimax_auto_weather"], {"Coffee": DAYS})
    assert len(tasks) == 4  # 2 models x 2 windows: the groups Spark fans out
    written = spark_engine.write_parquet(frames, str(tmp_path / "spark"))
    dist = spark.read.parquet(written["distributions"]).toPandas()
    pts = spark.read.parquet(written["point_forecasts"]).toPandas()
    assert set(columns("distributions")) == set(dist.columns)
    assert len(pts) == 2 * len(DAYS) * 14

    local = store.query(f"SELECT * FROM {qualified('distributions')}")
    key = ["model_name", "forecast_start_date", "path_id"]
    for df in (dist, local):
        df["forecast_start_date"] = pd.to_datetime(df["forecast_start_date"])
    both = local.merge(dist, on=key, suffixes=("_local", "_spark"))
    assert len(both) == len(local) == len(dist) == 2 * len(DAYS) * 301
    for c in DAY_COLUMNS:
        assert (both[f"{c}_local"] == both[f"{c}_spark"]).all(), c  # bit-identical
    assert not dist["has_data_leakage"].any()


def test_replace_where_predicates_only_take_safe_names(spark):
    task = spark_engine.Task("Coffee'; DROP TABLE x; --", "naive", date(2024, 1, 1), [date(2024, 1, 2)])
    with pytest.raises(Exception, match="not allowed"):
        spark_engine.write_delta({}, "commodity", [task], "v1.0")
