"""The DuckDB backend against a real database file: atomic replace, status, actuals, models."""

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from forecast_assets.core.forecast import forecast, train
from forecast_assets.core.calendar import ICE_SOFTS, Calendar
from forecast_assets.core.paths import day_seeds
from forecast_assets.storage.rows import Vintages, distribution_rows, point_rows
from forecast_assets.storage.schema import TABLES, columns, qualified
from forecast_assets_tests.read_sql import read_sql

DIST, POINTS = qualified("distributions"), qualified("point_forecasts")


def _batch(coffee_daily, days, n_paths=50, model="naive"):
    t = train(model, "Coffee", coffee_daily, date(2024, 1, 1), 14)
    d = np.asarray(days, dtype="datetime64[D]")
    return forecast(t, coffee_daily, d, n_paths=n_paths, seeds=day_seeds(1, "Coffee", model, "v1.0", d), horizon=14,
                    calendar=Calendar(ICE_SOFTS))


def _count(store, table, where="TRUE"):
    return int(read_sql(store, f"SELECT COUNT(*) AS n FROM {table} WHERE {where}")["n"].iloc[0])


def test_tables_have_the_contract_columns(store):
    for name in TABLES:
        got = read_sql(store, "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'commodity' "
                          "AND table_name = ? ORDER BY ordinal_position", [name])["column_name"].tolist()
        assert got[: len(columns(name, 14))] == columns(name, 14)  # unified_data adds FX columns as data lands
    assert read_sql(store, f"SELECT COUNT(*) AS n FROM {qualified('unified_data')}")["n"].iloc[0] > 0


def test_writing_a_vintage_again_replaces_exactly_its_days(store, coffee_daily):
    days = [date(2024, 2, 1) + timedelta(days=i) for i in range(10)]
    b = _batch(coffee_daily, days)
    store.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b, "v1.0"), point_rows(b, "v1.0"))
    n1 = _count(store, DIST)
    assert n1 == 10 * 50 + int(np.isfinite(b.actuals).all(axis=1).sum())
    assert _count(store, POINTS) == 140
    # Again (the same vintage, 1: a retried write), and for an overlapping range: no duplicates, other
    # versions untouched.
    store.replace_forecasts("Coffee", "naive", "v2.0", days, distribution_rows(b, "v2.0"), point_rows(b, "v2.0"))
    b2 = _batch(coffee_daily, days[5:])
    store.replace_forecasts("Coffee", "naive", "v1.0", days[5:], distribution_rows(b2, "v1.0"), point_rows(b2, "v1.0"))
    assert _count(store, DIST, "model_version = 'v1.0'") == n1
    assert _count(store, DIST, "model_version = 'v2.0'") == n1
    assert _count(store, POINTS, "model_version = 'v1.0'") == 140
    st = store.forecast_status("Coffee", "naive", "v1.0", days[0], days[-1])
    assert st["n_paths"].tolist() == [50] * 10 and st["n_points"].tolist() == [14] * 10
    assert st["model_fingerprint"].notna().all()


def _vintage(b, number, reason="input_changed", fp="f"):
    n = len(b.days)
    return Vintages([f"{fp}{i}" for i in range(n)], [number] * n, [reason] * n)


def test_a_new_vintage_is_appended_and_the_views_give_the_latest_or_the_first(store, coffee_daily):
    days = [date(2024, 2, 1) + timedelta(days=i) for i in range(4)]
    b1 = _batch(coffee_daily, days)
    store.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b1, "v1.0", vintages=_vintage(b1, 1, "first")),
                            point_rows(b1, "v1.0", vintages=_vintage(b1, 1, "first")))
    b2 = _batch(coffee_daily, days[2:])  # two days recomputed
    v2 = _vintage(b2, 2, fp="g")
    store.replace_forecasts("Coffee", "naive", "v1.0", days[2:], distribution_rows(b2, "v1.0", vintages=v2),
                            point_rows(b2, "v1.0", vintages=v2))
    assert _count(store, POINTS) == 4 * 14 + 2 * 14  # vintage 1 of every day is still there
    latest = read_sql(store, f"SELECT forecast_start_date, vintage, COUNT(*) AS n FROM {DIST}_latest WHERE path_id > 0 "
                             f"GROUP BY ALL ORDER BY 1")
    assert latest["vintage"].tolist() == [1, 1, 2, 2] and latest["n"].tolist() == [50] * 4
    first = read_sql(store, f"SELECT DISTINCT vintage FROM {POINTS}_first")
    assert first["vintage"].tolist() == [1]
    pts, paths = store.read_paths("Coffee", "naive", "v1.0", days[0], days[-1])  # readers get the latest...
    assert pts["vintage"].tolist()[::14] == [1, 1, 2, 2]
    pts, paths = store.read_paths("Coffee", "naive", "v1.0", days[0], days[-1], vintage="first")  # ...or the first
    assert pts["vintage"].tolist()[::14] == [1] * 4 and paths.shape == (4, 50, 14)
    st = store.forecast_status("Coffee", "naive", "v1.0", days[0], days[-1])
    assert st["vintage"].tolist() == [1, 1, 2, 2] and st["input_fingerprint"].tolist() == ["f0", "f1", "g0", "g1"]


def test_a_failed_recomputation_never_replaces_a_good_vintage(store, coffee_daily):
    days = [date(2024, 2, 1) + timedelta(days=i) for i in range(3)]
    b1 = _batch(coffee_daily, days)
    store.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b1, "v1.0"), point_rows(b1, "v1.0"))
    b2 = _batch(coffee_daily, days)
    b2.ok[:] = False
    b2.prices[:] = np.nan
    b2.reasons[:] = ["no trading data before the forecast day"] * 3
    v2 = _vintage(b2, 2)
    store.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b2, "v1.0", vintages=v2),
                            point_rows(b2, "v1.0", vintages=v2))
    st = store.forecast_status("Coffee", "naive", "v1.0", days[0], days[-1])
    assert st["vintage"].tolist() == [1] * 3 and st["all_success"].tolist() == [1] * 3  # the good one stays current
    assert st["last_vintage"].tolist() == [2] * 3
    failed = store.failed_recomputations("Coffee", "naive", "v1.0", days[0], days[-1])
    assert failed["last_vintage"].tolist() == [2] * 3 and failed["good_vintage"].tolist() == [1] * 3
    assert failed["reason"].iloc[0] == "no trading data before the forecast day"
    checks = store.stored_forecast_checks("Coffee", "naive", "v1.0", days[0], days[-1])
    assert checks.points["ok"].tolist() == [1] * 3
    assert store.failed_days("Coffee", "naive", "v1.0", days[0], days[-1]).empty


def test_a_failed_write_leaves_the_old_rows(store, coffee_daily):
    days = [date(2024, 3, 1) + timedelta(days=i) for i in range(5)]
    b = _batch(coffee_daily, days)
    store.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b, "v1.0"), point_rows(b, "v1.0"))
    before = _count(store, DIST), _count(store, POINTS)
    bad_points = point_rows(b, "v1.0").drop_columns(["forecast_mean"]).append_column(
        "forecast_mean", pa.array(["not a number"] * (5 * 14)))
    with pytest.raises(duckdb.Error):
        store.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b, "v1.0"), bad_points)
    assert (_count(store, DIST), _count(store, POINTS)) == before


def test_actuals_fill_points_and_path_zero_for_every_model(store, coffee_daily):
    days = [date(2024, 4, 1) + timedelta(days=i) for i in range(3)]
    for model in ("naive", "xgboost"):
        b = _batch(coffee_daily[coffee_daily.index < "2024-04-01"], days, model=model)  # actuals unknown then
        assert np.isnan(b.actuals).all()
        store.replace_forecasts("Coffee", model, "v1.0", days, distribution_rows(b, "v1.0"), point_rows(b, "v1.0"))
    assert _count(store, DIST, "path_id = 0") == 0
    from forecast_assets.runs.actuals import attach_actuals
    complete, partial = attach_actuals(store, "Coffee", days, Calendar(ICE_SOFTS))
    assert complete == 3 and partial == 3
    assert _count(store, DIST, "path_id = 0 AND is_actuals") == 6
    assert _count(store, POINTS, "actual_close IS NULL") == 0
    attach_actuals(store, "Coffee", days, Calendar(ICE_SOFTS))  # idempotent
    assert _count(store, DIST, "path_id = 0") == 6
    row = read_sql(store, f"SELECT day_1 FROM {DIST} WHERE path_id = 0 AND forecast_start_date = '2024-04-01' LIMIT 1")
    assert row["day_1"].iloc[0] == pytest.approx(coffee_daily.loc["2024-04-01", "close"], rel=1e-6)


def test_trained_model_rows_roundtrip(store):
    row = {c: None for c in columns("trained_models")} | {
        "commodity": "Coffee", "model_name": "naive", "model_version": "v1.0", "window_start": date(2024, 1, 1),
        "training_cutoff_date": date(2023, 12, 29), "fitted_model_json": "{}"}
    store.write_trained_model(row)
    store.write_trained_model(row | {"fitted_model_json": '{"a":1}'})
    assert _count(store, qualified("trained_models")) == 1
    assert store.read_trained_model("Coffee", "naive", "v1.0", date(2024, 1, 1))["fitted_model_json"] == '{"a":1}'
    assert store.read_trained_model("Coffee", "naive", "v1.0", date(2024, 7, 1)) is None


def test_trained_model_rows_written_together_are_those_written_one_by_one(store, tmp_path):
    """write_trained_models (one transaction, what training uses) leaves exactly the table that
    write_trained_model row by row leaves, replaced rows included."""
    from forecast_assets.storage.duckdb_store import DuckDBStore

    base = {c: None for c in columns("trained_models")} | {
        "commodity": "Coffee", "model_name": "naive", "model_version": "v1.0",
        "training_cutoff_date": date(2023, 12, 29), "created_by": "test"}
    old = [base | {"window_start": date(2024, 1, 1), "fitted_model_json": '{"old":1}'}]
    rows = [base | {"window_start": date(2024, 1, 1), "fitted_model_json": '{"a":1}'},
            base | {"window_start": date(2024, 7, 1), "fitted_model_s3_path": "/models/b.json"},
            base | {"window_start": date(2025, 1, 1), "model_name": "xgboost", "fitted_model_json": '{"c":3}'}]
    one_by_one = DuckDBStore(tmp_path / "plain.duckdb")
    one_by_one.ensure_schema()
    for r in old + rows:
        one_by_one.write_trained_model(r)
    store.write_trained_models(old)
    store.write_trained_models(rows)
    query = f"SELECT * FROM {qualified('trained_models')} ORDER BY model_name, window_start"
    together, plain = read_sql(store, query), read_sql(one_by_one, query)
    assert len(together) == 3
    pd.testing.assert_frame_equal(together, plain)


def test_unified_version_changes_when_data_lands(store, sample_unified):
    v1 = store.unified_version()
    store.replace_unified(sample_unified[sample_unified["date"] < "2025-01-01"])
    assert store.unified_version() != v1


def test_unified_version_sees_every_change_of_every_column(store):
    """Issue 13: the old version (sum of rounded closes, row count) missed these."""
    from forecast_assets.storage.schema import qualified as q

    seen = {store.unified_version()}
    for change in (
        "UPDATE {t} SET close = CASE WHEN date = '2024-03-04' THEN (SELECT close FROM {t} WHERE commodity = 'Coffee' "
        "AND date = '2024-03-05' LIMIT 1) ELSE (SELECT close FROM {t} WHERE commodity = 'Coffee' AND date = "
        "'2024-03-04' LIMIT 1) END WHERE commodity = 'Coffee' AND date IN ('2024-03-04', '2024-03-05')",  # a swap
        "UPDATE {t} SET vix = vix + 1 WHERE commodity = 'Sugar' AND date = '2024-03-04'",
        "UPDATE {t} SET rain_mm = rain_mm + 0.1 WHERE commodity = 'Coffee' AND date = '2023-07-03'",
        "UPDATE {t} SET close = close + 1e-9 WHERE commodity = 'Coffee' AND date = '2020-01-02'",
    ):
        with store.transaction() as con:
            con.execute(change.format(t=q("unified_data")))
        seen.add(store.unified_version())
    assert len(seen) == 5


def test_a_database_made_before_the_added_columns_gets_them(tmp_path, coffee_daily):
    """A database whose tables predate schema.ADDED: ensure_schema appends exactly those columns (old rows
    NULL), changes nothing else, and new forecasts write into it."""
    from forecast_assets.storage.duckdb_store import DuckDBStore
    from forecast_assets.storage.schema import ADDED, table_columns

    old = DuckDBStore(tmp_path / "old.duckdb")
    added = {t: {c for c, _ in cols} for t, cols in ADDED.items()}
    with old.transaction() as con:
        for schema in ("silver", "forecast"):
            con.execute(f"CREATE SCHEMA commodity.{schema}")
        for t in TABLES:
            cols = [(c, ty) for c, ty in table_columns(t, 14) if c not in added.get(t, set())]
            con.execute(f"CREATE TABLE {qualified(t)} ({', '.join(f'{c} {ty}' for c, ty in cols)})")
        con.execute(f"INSERT INTO {POINTS} (forecast_start_date, day_ahead, commodity, model_name, model_version, "
                    f"forecast_mean, lower_95, upper_95) VALUES ('2024-01-02', 1, 'Coffee', 'naive', 'v0', 1.0, 0.5, "
                    f"1.5)")
    before = old.live_columns(TABLES)
    assert "forecast_median" not in before["point_forecasts"]
    old.ensure_schema()
    old.ensure_schema()  # idempotent: nothing added twice
    after = old.live_columns(TABLES)
    for t in TABLES:
        assert after[t] == columns(t, 14)  # the old columns, then the added ones last, as a new database has
        assert after[t][: len(before[t])] == before[t]
    row = read_sql(old, f"SELECT * FROM {POINTS}").iloc[0]
    assert row["forecast_mean"] == 1.0 and row["upper_95"] == 1.5
    assert all(pd.isna(row[c]) for c, _ in ADDED["point_forecasts"])
    days = [date(2024, 2, 1), date(2024, 2, 2)]
    b = _batch(coffee_daily, days)
    old.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b, "v1.0"), point_rows(b, "v1.0"))
    new = read_sql(old, f"SELECT forecast_median, lower_80, upper_80, lower_95, upper_95 FROM {POINTS} "
                        f"WHERE model_version = 'v1.0'")
    assert len(new) == 28 and new.notna().all().all()
    assert ((new["lower_95"] <= new["lower_80"]) & (new["lower_80"] <= new["forecast_median"])
            & (new["forecast_median"] <= new["upper_80"]) & (new["upper_80"] <= new["upper_95"])).all()


def test_one_connection_shares_one_attach_per_thread_and_lets_go_of_the_file(store, monkeypatch):
    """Reads inside one_connection attach the file once; other threads keep their own connections; after it
    another process can attach (DuckDB lets one process have the file)."""
    import subprocess
    import sys
    import threading

    opened = []
    real_open = type(store)._open
    monkeypatch.setattr(type(store), "_open", lambda self: opened.append(threading.get_ident()) or real_open(self))
    with store.one_connection():
        store.read_unified("Coffee")
        store.forecast_status("Coffee", "naive", "v1.0", date(2024, 1, 1), date(2024, 2, 1))
        with store.one_connection():  # nested: still the same one
            store.read_trained_model("Coffee", "naive", "v1.0", date(2024, 1, 1))
        errors = []

        def elsewhere():  # another thread never gets this thread's connection: it attaches for itself,
            try:          # which DuckDB refuses while the file is attached here (same process)
                store.read_unified("Sugar")
            except duckdb.Error as exc:
                errors.append(exc)

        other = threading.Thread(target=elsewhere)
        other.start()
        other.join()
    assert len(opened) == 2 and opened[0] == threading.get_ident() != opened[1]
    assert len(errors) == 1 and "already attached" in str(errors[0])
    store.read_unified("Coffee")
    assert len(opened) == 3  # outside: one attach per call, as before
    code = f"import duckdb; duckdb.connect({str(store.path)!r}).execute('SELECT 1').fetchall()"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 0


def test_each_thread_keeps_its_database_attaches_the_file_per_operation_and_a_failure_leaves_nothing(
        store, coffee_daily):
    """The in-memory database the file is attached to is made once per thread (making one costs ~11 ms);
    after each operation the file is detached, so another process can open it; an operation that failed
    takes its database with it (a registered batch, an aborted transaction), and the next one works."""
    import subprocess
    import sys

    store.read_unified("Coffee")
    first = store._held.instance
    store.read_unified("Coffee")
    assert store._held.instance is first
    assert first.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal").fetchall() == [
        ("memory",)]  # the file is not attached between operations
    code = f"import duckdb; duckdb.connect({str(store.path)!r}).execute('SELECT 1').fetchall()"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 0

    days = [date(2024, 3, 1) + timedelta(days=i) for i in range(3)]
    b = _batch(coffee_daily, days)
    bad_points = point_rows(b, "v1.0").drop_columns(["forecast_mean"]).append_column(
        "forecast_mean", pa.array(["not a number"] * (3 * 14)))
    with pytest.raises(duckdb.Error):
        store.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b, "v1.0"), bad_points)
    assert store._held.instance is None  # closed with what the failed write registered in it
    store.replace_forecasts("Coffee", "naive", "v1.0", days, distribution_rows(b, "v1.0"), point_rows(b, "v1.0"))
    assert _count(store, POINTS, "model_name = 'naive'") == 3 * 14
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 0


def test_ensure_schema_only_reads_when_everything_is_in_place_and_mends_a_view_made_otherwise(store):
    """Every step calls ensure_schema: with the tables, columns and views this code makes it leaves the file
    untouched (no write transaction taking it from other runs); a view not made by it (an older definition)
    is made again."""
    import os

    store.ensure_schema()
    before = os.stat(store.path).st_mtime_ns, os.path.getsize(store.path)
    store.ensure_schema()
    assert (os.stat(store.path).st_mtime_ns, os.path.getsize(store.path)) == before

    view = "commodity.forecast.distributions_latest"
    with store.transaction() as con:  # as an older version might have defined it
        con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM commodity.forecast.distributions")
    store.ensure_schema()
    sql_text = read_sql(store, "SELECT sql FROM duckdb_views() WHERE view_name = 'distributions_latest'")["sql"][0]
    assert "JOIN" in sql_text  # the vintage view again, not the plain one
    before = os.stat(store.path).st_mtime_ns, os.path.getsize(store.path)
    store.ensure_schema()
    assert (os.stat(store.path).st_mtime_ns, os.path.getsize(store.path)) == before


@pytest.mark.parametrize("case", ["whole", "a day short of a path", "a path twice", "ids from 2"])
def test_paths_by_day_places_rows_in_any_order_as_sorting_them_would(case):
    """read_paths fetches rows unordered; paths_by_day places each (day, path) directly when the ids are 1..N
    on every day and sorts otherwise: both give the days with every path, in order, paths by id."""
    from forecast_assets.storage.base import paths_by_day

    rng = np.random.default_rng(7)
    days = np.array(["2024-01-02", "2024-01-03", "2024-01-05"], dtype="datetime64[D]")
    n, h = 6, 3
    d = np.repeat(days, n)
    pid = np.tile(np.arange(1, n + 1), len(days))
    vals = rng.normal(size=(len(d), h)).astype(np.float32)
    if case == "a day short of a path":
        keep = ~((d == days[1]) & (pid == 4))
        d, pid, vals = d[keep], pid[keep], vals[keep]
    elif case == "a path twice":
        d, pid, vals = np.append(d, days[0]), np.append(pid, 1), np.vstack([vals, vals[:1]])
    elif case == "ids from 2":
        pid = pid + 1
    order = rng.permutation(len(d))
    raw = {"forecast_start_date": d[order], "path_id": pid[order],
           **{f"day_{k + 1}": vals[order, k] for k in range(h)}}
    points = pd.DataFrame({"forecast_start_date": np.repeat(days, h)})
    pts, paths = paths_by_day(raw, points, h)
    sort = np.lexsort((pid, d))
    d, vals = d[sort], vals[sort]
    uniq, counts = np.unique(d, return_counts=True)
    whole = uniq[counts == counts.max()]
    expected = np.stack([vals[d == day] for day in whole])
    assert paths.shape == expected.shape and np.array_equal(paths, expected)
    assert sorted(set(pts["forecast_start_date"].values.astype("datetime64[D]"))) == list(whole)
