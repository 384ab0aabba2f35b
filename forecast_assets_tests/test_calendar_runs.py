"""The calendar through the run layer: stored steps, actuals and the plan's skip rule follow FORECAST_CALENDARS."""

from __future__ import annotations

import dataclasses
from datetime import date

from forecast_assets.runs import forecasting, training
from forecast_assets.runs.actuals import attach_actuals
from forecast_assets.storage.schema import qualified
from forecast_assets_tests.read_sql import read_sql

# Around Thanksgiving 2024 (Thu 28 Nov, no ICE softs session): every day's 14 steps cross it
DAYS = [date(2024, 11, 25), date(2024, 11, 27), date(2024, 11, 28), date(2024, 11, 29)]
POINTS = qualified("point_forecasts")


def _steps(store) -> dict:
    df = read_sql(store, f"SELECT forecast_start_date, forecast_date, actual_close FROM {POINTS}_latest "
                         "WHERE day_ahead <= 3 ORDER BY forecast_start_date, day_ahead")
    return {str(d.date() if hasattr(d, "date") else d): g for d, g in df.groupby("forecast_start_date")}


def test_steps_actuals_and_skip_rule_follow_the_calendar(store, settings):
    training.train_windows(store, settings, "naive", "Coffee", [date(2024, 7, 1)], "test")
    assert settings.calendar("Coffee").name == "ICEUS_SOFTS"
    r = forecasting.forecast_days(store, settings, "naive", "Coffee", DAYS)
    assert r.days_written == len(DAYS)
    attach_actuals(store, "Coffee", DAYS, settings.calendar("Coffee"))
    steps = _steps(store)
    dates = {d: [str(x.date() if hasattr(x, "date") else x) for x in g["forecast_date"]] for d, g in steps.items()}
    assert dates["2024-11-27"] == ["2024-11-27", "2024-11-29", "2024-12-02"]  # Thanksgiving is no step
    assert dates["2024-11-28"] == ["2024-11-29", "2024-12-02", "2024-12-03"]  # a holiday start: next session
    closes = read_sql(store, "SELECT date, close FROM commodity.silver.unified_data WHERE commodity = 'Coffee' "
                             "AND date BETWEEN '2024-11-26' AND '2024-11-29' AND is_trading_day = 1 "
                             "GROUP BY date, close ORDER BY date")
    by_day = {str(d.date() if hasattr(d, "date") else d): c for d, c in zip(closes["date"], closes["close"])}
    assert "2024-11-28" not in by_day
    assert list(steps["2024-11-27"]["actual_close"])[:2] == [by_day["2024-11-27"], by_day["2024-11-29"]]

    # the same settings: every day complete; another calendar: the days whose steps differ are recomputed.
    # 29 Nov has the same 14 steps and cutoff on both (only its gap differs): kept, as the docs say
    assert forecasting.forecast_days(store, settings, "naive", "Coffee", DAYS).days_skipped == len(DAYS)
    weekdays = dataclasses.replace(settings, calendars=("Coffee=weekdays",))
    r = forecasting.forecast_days(store, weekdays, "naive", "Coffee", DAYS)
    assert r.days_skipped == 1 and r.days_written == len(DAYS) - 1
    assert [str(x.date() if hasattr(x, "date") else x) for x in _steps(store)["2024-11-27"]["forecast_date"]] == [
        "2024-11-27", "2024-11-28", "2024-11-29"]
    assert forecasting.forecast_days(store, weekdays, "naive", "Coffee", DAYS).days_skipped == len(DAYS)
