"""A forecast partition's materialization holds that day's numbers, written as its window commits."""

from datetime import date

import dagster as dg

from forecast_assets.runs import forecasting
from forecast_assets.storage.schema import qualified
from forecast_assets_tests.read_sql import read_sql

# Two semiannual windows in one ranged run: the first commits before the second is computed.
RANGE = {"dagster/asset_partition_range_start": "Coffee|2024-06-26",
         "dagster/asset_partition_range_end": "Coffee|2024-07-03"}


def _materializations(instance, key):
    return [e for e in instance.all_logs(instance.get_runs()[0].run_id)
            if e.is_dagster_event and e.dagster_event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
            and e.dagster_event.asset_key == key]


def test_each_day_reports_its_own_numbers_as_its_window_commits(assets, resources, store, settings, monkeypatch):
    monkeypatch.setitem(forecasting.forecast_days.__kwdefaults__, "write_rows", 1)  # one write per window
    instance = dg.DagsterInstance.ephemeral()
    for w in ("2024-01-01", "2024-07-01"):
        dg.materialize([assets["trained_models/naive"]], instance=instance, resources=resources,
                       partition_key=f"Coffee|{w}")
    for r in instance.get_runs():
        instance.delete_run(r.run_id)
    assert dg.materialize([assets["forecasts/naive"]], instance=instance, resources=resources, tags=RANGE).success
    key = dg.AssetKey(["forecasts", "naive"])
    logs = instance.all_logs(instance.get_runs()[0].run_id)
    mats = _materializations(instance, key)
    days = [f"Coffee|2024-06-{d}" for d in range(26, 31)] + [f"Coffee|2024-07-0{d}" for d in range(1, 4)]
    # Each day twice: once as its window committed, once at the step's end; the same numbers in both.
    assert sorted(str(m.dagster_event.partition) for m in mats) == sorted(days * 2)
    by_day: dict[str, list] = {}
    for m in mats:
        by_day.setdefault(str(m.dagster_event.partition), []).append(m.dagster_event.materialization.metadata)
    for day, (live, final) in by_day.items():
        assert {k: v.value for k, v in live.items()} == {k: v.value for k, v in final.items()}
        assert "days_asked" not in live and "rows_distributions" not in live  # run totals stay in the run log
    # Live: the first window's days are written before the second window's rows are.
    second_write = next(i for i, e in enumerate(logs) if "written to 2024-07-03" in (e.user_message or ""))
    first_june = next(i for i, e in enumerate(logs) if e in mats)
    assert first_june < second_write
    assert str(logs[first_june].dagster_event.partition).startswith("Coffee|2024-06")
    # The day's numbers are the stored ones.
    pts = read_sql(store, f"SELECT day_ahead, data_cutoff_date, forecast_date, forecast_median, lower_95, upper_95 "
                          f"FROM {qualified('point_forecasts')} WHERE model_name = 'naive' "
                          f"AND forecast_start_date = DATE '2024-07-01' AND day_ahead IN (1, 14) ORDER BY day_ahead")
    md = {k: v.value for k, v in by_day["Coffee|2024-07-01"][0].items()}
    assert md["status"] == "ok"
    assert md["data_cutoff_date"] == str(pts["data_cutoff_date"].iloc[0].date()) == "2024-06-28"
    for r in pts.itertuples():
        s = r.day_ahead
        assert md[f"date_step_{s}"] == str(r.forecast_date.date())
        assert md[f"median_step_{s}"] == round(r.forecast_median, 4)
        assert (md[f"lower_95_step_{s}"], md[f"upper_95_step_{s}"]) == (round(r.lower_95, 4), round(r.upper_95, 4))
    # Dagster reads the key back as a multi-partition key: the UI filters these events by dimension.
    assert isinstance(mats[0].dagster_event.partition, dg.MultiPartitionKey)
    assert mats[0].dagster_event.materialization.tags["dagster/partition/date"] == "2024-06-26"


def test_a_day_without_rows_says_so(store, settings):
    from forecast_assets.lib.partition_metadata import day_metadata

    # A day asked but not stored (never expected after a commit) is reported as such, not as ok.
    assert day_metadata(store, "naive", "v1.0", "Coffee", [date(2024, 1, 2)], 14) == {
        date(2024, 1, 2): {"status": "no stored forecast"}}


def test_a_failed_day_says_why(store, settings):
    import dataclasses

    from forecast_assets.lib.partition_metadata import day_metadata
    from forecast_assets.runs import training

    small = dataclasses.replace(settings, n_paths=50)
    training.train_windows(store, small, "naive", "Coffee", [date(2024, 1, 1)], "test")
    with store.connect() as con:  # the feed stops on 2024-01-05: a forecast two weeks later is too late
        con.execute(f"DELETE FROM {qualified('unified_data')} WHERE commodity = 'Coffee' AND date > DATE '2024-01-05'")
    days = [date(2024, 1, 8), date(2024, 1, 26)]
    r = forecasting.forecast_days(store, small, "naive", "Coffee", days)
    assert (r.days_written, r.days_failed) == (1, 1)
    md = day_metadata(store, "naive", small.model_version, "Coffee", days, small.horizon)
    assert md[date(2024, 1, 8)]["status"] == "ok"
    failed = md[date(2024, 1, 26)]
    assert failed["status"].startswith("failed: ") and len(failed["status"]) > len("failed: ") + 10
    assert failed["data_cutoff_date"] == "2024-01-05"
