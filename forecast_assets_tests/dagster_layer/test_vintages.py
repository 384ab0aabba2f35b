"""Issue 13, done-when: a revised close and a late week, through `forecast-assets import`, Dagster and its
automation, give exactly the days whose input changed a new vintage; every first vintage stays readable
and its scores as first published do not move."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import numpy as np
import pandas as pd
from dagster._core.definitions.observe import observe

from forecast_assets import cli
from forecast_assets.core.sample import make_sample
from forecast_assets.defs.input import unified_data
from forecast_assets.storage.schema import qualified
from forecast_assets_tests.read_sql import read_sql

LA = ZoneInfo("America/Los_Angeles")
POINTS, SCORES = qualified("point_forecasts"), qualified("forecast_scores")
FIRST_DAY, LAST_DAY = date(2025, 1, 8), date(2025, 2, 7)  # the month forecast first (data to Friday 2025-02-07)
REVISED = date(2025, 1, 22)  # a Wednesday session: its close is revised by +10%
WEEK_END = date(2025, 2, 14)  # the late week appended with the revision


def _import(path, settings, monkeypatch) -> None:
    monkeypatch.setenv("FORECAST_DUCKDB_PATH", str(settings.duckdb_path))
    monkeypatch.setenv("FORECAST_ARTIFACT_DIR", str(settings.artifact_dir))
    assert cli.main(["import", str(path)]) == 0


def _range(keys: set[str]) -> dict[str, str]:
    """The range tags of a set of one commodity's day keys, which must be contiguous (one ranged run)."""
    days = sorted(date.fromisoformat(k.split("|")[1]) for k in keys)
    assert (days[-1] - days[0]).days == len(days) - 1, f"not one range: {days}"
    return {"dagster/asset_partition_range_start": f"Coffee|{days[0]}",
            "dagster/asset_partition_range_end": f"Coffee|{days[-1]}"}


def _run_requested(result, assets, instance, resources) -> dict[str, set[str]]:
    requested = {x.key.to_user_string(): {k for k in x.true_subset.expensively_compute_partition_keys()
                                          if k.startswith("Coffee|")}  # Sugar: no model, no forecasts
                 for x in result.results if x.true_subset.size and x.true_subset.is_partitioned}
    requested = {k: v for k, v in requested.items() if v}
    for key in ("forecasts/naive", "actuals", "forecast_metadata"):  # in dependency order
        if key in requested:
            run = dg.materialize([assets[key]], instance=instance, resources=resources,
                                 tags=_range(requested[key]))
            assert run.success
    return requested


def _vintages(store) -> pd.DataFrame:
    return read_sql(store, f"SELECT forecast_start_date AS d, vintage, vintage_reason AS reason, "
                           f"MIN(input_fingerprint) AS fp FROM {POINTS} WHERE model_name = 'naive' "
                           f"GROUP BY ALL ORDER BY d, vintage")


def test_a_revision_and_a_late_week_make_new_vintages_of_exactly_the_changed_days(
        tmp_path, monkeypatch, defs, assets, resources, store, settings):
    full = make_sample(end=WEEK_END, commodities=["Coffee"])
    full["date"] = pd.to_datetime(full["date"])
    before = tmp_path / "coffee_to_0207.csv"
    full[full["date"] <= pd.Timestamp(LAST_DAY)].to_csv(before, index=False, date_format="%Y-%m-%d")
    _import(before, settings, monkeypatch)
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([assets["trained_models/naive"]], instance=instance, resources=resources,
                          partition_key="Coffee|2025-01-01").success
    month = {f"Coffee|{FIRST_DAY + timedelta(days=i)}" for i in range((LAST_DAY - FIRST_DAY).days + 1)}
    for key in ("forecasts/naive", "actuals", "forecast_metadata"):
        assert dg.materialize([assets[key]], instance=instance, resources=resources, tags=_range(month)).success
    first = _vintages(store)
    assert len(first) == 31 and set(first["vintage"]) == {1} and set(first["reason"]) == {"first"}
    first_paths = store.read_paths("Coffee", "naive", settings.model_version, FIRST_DAY, LAST_DAY, vintage="first")
    crps_before = read_sql(store, f"SELECT forecast_start_date AS d, day_ahead, forecast_date, crps FROM {SCORES} "
                                  f"WHERE model_name = 'naive' AND vintage = 1")

    # Dagster has seen this state: a tick asks for nothing new of the month.
    now = datetime(2025, 2, 7, 9, 0, tzinfo=LA)
    observe([unified_data], instance=instance, resources=resources)
    r = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=now)
    _run_requested(r, assets, instance, resources)
    r = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=now, cursor=r.cursor)
    assert _vintages(store).equals(first)  # a rerun of unchanged input writes nothing

    # The feed revises one close (+10%) and delivers a week late; the user imports the full file.
    revised = full.copy()
    revised.loc[revised["date"] == pd.Timestamp(REVISED), "close"] *= 1.1
    after = tmp_path / "coffee_to_0214_revised.csv"
    revised.to_csv(after, index=False, date_format="%Y-%m-%d")
    _import(after, settings, monkeypatch)
    observe([unified_data], instance=instance, resources=resources)
    later = datetime(2025, 2, 14, 9, 0, tzinfo=LA)
    r = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=later, cursor=r.cursor)
    requested = _run_requested(r, assets, instance, resources)
    # The revised month days and the new week were asked for.
    assert {f"Coffee|{REVISED + timedelta(days=1)}", f"Coffee|{LAST_DAY}", f"Coffee|{WEEK_END}"} \
        <= requested["forecasts/naive"]

    now_ = _vintages(store)
    month_days = pd.to_datetime(now_["d"]).dt.date
    new = now_[now_["vintage"] == 2]
    # Exactly the days whose input changed (cutoff on or after the revised session) got vintage 2...
    changed = [d for d in sorted(set(month_days)) if FIRST_DAY <= d <= LAST_DAY and d > REVISED]
    assert sorted(pd.to_datetime(new["d"]).dt.date) == changed
    assert set(new["reason"]) == {"input_changed"}
    # ...the untouched days did not, and every first vintage is still there as it was.
    v1 = now_[now_["vintage"] == 1].drop(columns="reason").reset_index(drop=True)
    assert v1[pd.to_datetime(v1["d"]).dt.date <= LAST_DAY].equals(first.drop(columns="reason"))
    # The new week's days are first vintages.
    week = now_[pd.to_datetime(now_["d"]).dt.date > LAST_DAY]
    assert set(week["vintage"]) == {1} and set(week["reason"]) == {"first"}
    assert now_.groupby("d")["vintage"].max().max() == 2
    # The first vintage reads back exactly as before; the latest of the changed days differs from it.
    pts, paths = store.read_paths("Coffee", "naive", settings.model_version, FIRST_DAY, LAST_DAY, vintage="first")
    assert pts.drop(columns="vintage").equals(first_paths[0].drop(columns="vintage"))
    assert np.array_equal(paths, first_paths[1])
    latest_pts, latest_paths = store.read_paths("Coffee", "naive", settings.model_version, FIRST_DAY, LAST_DAY)
    assert set(latest_pts.loc[pd.to_datetime(latest_pts["forecast_start_date"]).dt.date > REVISED, "vintage"]) == {2}
    assert not np.array_equal(latest_paths, paths)

    # "As first published": each first vintage's step scores known before are unchanged, save those
    # whose realized close is the revised one (the truth changed, not the forecast).
    crps_after = read_sql(store, f"SELECT forecast_start_date AS d, day_ahead, crps AS crps_after FROM {SCORES} "
                                 f"WHERE model_name = 'naive' AND vintage = 1")
    both = crps_before.merge(crps_after, on=["d", "day_ahead"], how="left")
    kept = both[(pd.to_datetime(both["forecast_date"]).dt.date != REVISED) & both["crps"].notna()]
    assert len(kept) > 200 and np.allclose(kept["crps"], kept["crps_after"], rtol=0, atol=1e-12)
    # The revised days are scored as their latest vintage too, and the two scorings differ.
    latest_perf = store.read_scores(FIRST_DAY, LAST_DAY, "latest")
    first_perf = store.read_scores(FIRST_DAY, LAST_DAY, "first")
    assert set(latest_perf.loc[pd.to_datetime(latest_perf["forecast_start_date"]).dt.date > REVISED, "vintage"]) == {2}
    assert set(first_perf["vintage"]) == {1}
