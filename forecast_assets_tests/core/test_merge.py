"""core.merge: what an import writes so stored dates the file does not give are kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast_assets.core.importer import prepare_unified
from forecast_assets.core.input_rules import InputDataError
from forecast_assets.core.merge import merge_plan, replace_report


def _file(start, n, close0=100.0, step=0.1, commodity="Gold", dates=None):
    d = pd.Index(dates) if dates is not None else pd.bdate_range(start, periods=n)
    return pd.DataFrame({"date": d.strftime("%Y-%m-%d"), "commodity": commodity,
                         "close": [f"{close0 + step * i:.2f}" for i in range(len(d))]})


def _prepare(df):
    prov: dict = {}
    out, _ = prepare_unified(df, min_trading_days=1, provenance=prov)
    return out, prov


@pytest.fixture
def stored():
    out, _ = _prepare(_file("2020-01-01", 200))  # 2020-01-01 .. 2020-10-06 (a Tuesday)
    return out


def _apply(stored, rows):
    key = ["date", "commodity", "region"]
    kept = stored.merge(rows[key], on=key, how="left", indicator=True)
    kept = kept[kept["_merge"] == "left_only"].drop(columns="_merge")
    return pd.concat([kept, rows], ignore_index=True).sort_values(key).reset_index(drop=True)


def test_new_days_are_added_and_the_history_kept(stored):
    inc, prov = _prepare(_file("2020-10-07", 65, close0=120.0))
    plan = merge_plan(stored, inc, prov)
    (c,) = plan.commodities
    assert (c.days_added, c.closes_revised, c.days_kept, c.days_unchanged) == (65, 0, 200, 0)
    after = _apply(stored, plan.rows)
    assert after[after["is_trading_day"] == 1]["date"].nunique() == 265
    assert after["date"].is_unique and len(after) == (after["date"].max() - after["date"].min()).days + 1
    assert "Gold: 65 trading days added, 0 closes revised, 0 unchanged, 200 stored trading days kept" in plan.report()[0]


def test_a_revised_close_rewrites_that_row_only(stored):
    day = stored[stored["is_trading_day"] == 1].iloc[150]
    inc, prov = _prepare(pd.DataFrame({"date": [day["date"].strftime("%Y-%m-%d")], "commodity": ["Gold"],
                                       "close": [f"{day['close'] * 1.1:.4f}"]}))
    plan = merge_plan(stored, inc, prov)
    (c,) = plan.commodities
    assert (c.days_added, c.closes_revised, c.days_kept) == (0, 1, 199)
    assert len(plan.rows) == 1 and plan.rows["close"].iloc[0] == pytest.approx(day["close"] * 1.1, rel=1e-6)


def test_days_the_importer_fills_in_never_overwrite_stored_days(stored):
    # Two dates two weeks apart: the importer fills the days between, which are stored trading days.
    inc, prov = _prepare(_file(None, 0, close0=101.0, step=0.0, dates=pd.to_datetime(["2020-03-02", "2020-03-16"])))
    assert len(inc) == 15 and prov["given"].sum() == 2
    plan = merge_plan(stored, inc, prov)
    assert sorted(plan.rows["date"].dt.strftime("%Y-%m-%d")) == ["2020-03-02", "2020-03-16"]
    after = _apply(stored, plan.rows)
    assert after[after["is_trading_day"] == 1]["date"].nunique() == 200


def test_the_weekend_between_stored_friday_and_a_files_monday_is_filled(stored):
    st = stored[stored["date"] <= "2020-10-02"]  # ends on a Friday
    inc, prov = _prepare(_file("2020-10-05", 3, close0=120.0))
    plan = merge_plan(st, inc, prov)
    bridge = plan.rows[plan.rows["date"].isin(pd.to_datetime(["2020-10-03", "2020-10-04"]))]
    assert len(bridge) == 2 and (bridge["is_trading_day"] == 0).all()
    friday = st[st["date"] == "2020-10-02"]["close"].iloc[0]
    assert (bridge["close"] == friday).all()  # carried forward from the stored Friday


def test_a_jump_from_the_stored_neighbour_is_refused_naming_the_file_row(stored):
    last = stored[stored["is_trading_day"] == 1]["close"].iloc[-1]
    inc, prov = _prepare(_file("2020-10-07", 5, close0=last * 3, step=0.0))
    with pytest.raises(InputDataError, match=r"prices merged with tbl: row 1 \(2020-10-07, Gold\): close .* "
                                             r"one-day move of x3 .*--allow-jumps"):
        merge_plan(stored, inc, prov, source="prices", table="tbl")
    assert len(merge_plan(stored, inc, prov, allow_jumps=True).rows) == 7  # 5 days + the weekend


def test_an_old_stored_jump_does_not_block_later_merges(stored):
    st = stored.copy()
    st.loc[st["date"] >= "2020-06-01", "close"] *= 5  # imported earlier with --allow-jumps
    inc, prov = _prepare(_file("2020-10-07", 3, close0=st["close"].iloc[-1], step=0.0))
    assert merge_plan(st, inc, prov).commodities[0].days_added == 3


def test_a_gap_across_the_boundary_and_too_short_a_history_are_refused(stored):
    inc, prov = _prepare(_file("2021-02-01", 3, close0=119.9, step=0.0))
    with pytest.raises(InputDataError, match=r"no trading data from 2020-10-06 to 2021-02-01"):
        merge_plan(stored, inc, prov)
    inc, prov = _prepare(_file("2020-01-01", 5))
    with pytest.raises(InputDataError, match=r"'Gold' has 5 trading days of data; at least 60"):
        merge_plan(stored.iloc[0:0], inc, prov)


def test_replace_says_how_many_trading_days_it_removes(stored):
    inc, _ = _prepare(_file("2020-10-07", 65, close0=120.0))
    (line,) = replace_report(stored, inc)
    assert line.startswith("Gold: replaced its 200 stored trading days with the file's 65; 200 trading days")
    assert "(2020-01-01 .. 2020-10-06)" in line


def test_the_jump_guard_reads_one_close_per_day_in_date_order_across_regions():
    # Region North (sorted first) has the later days, South the first 30: the closes run on in date order.
    days = _file("2020-01-01", 90)
    north, south = days.iloc[30:].assign(region="North"), days.iloc[:30].assign(region="South")
    out, _ = prepare_unified(pd.concat([north, south], ignore_index=True))
    assert out[out["is_trading_day"] == 1]["date"].nunique() == 90
    north.loc[north.index[0], "close"] = "500.00"  # day 31, file row 1: a jump from South's day 30
    with pytest.raises(InputDataError, match=r"row 1 \(2020-02-12, Gold\): close 500 after 102\.9 on 2020-02-11"):
        prepare_unified(pd.concat([north, south], ignore_index=True))


def test_zone_aware_dates_are_their_date_in_their_zone():
    from forecast_assets.core.import_guards import zone_dates

    ny = pd.Series(pd.to_datetime(["2020-01-02", "2020-07-01"]).tz_localize("America/New_York"))
    days, note = zone_dates(ny, "f")
    assert [str(d) for d in days] == ["2020-01-02", "2020-07-01"] and "America/New_York" in note
    # Midnight UTC seen from London is 00:00 or 01:00 the same day: taken as that day.
    london = pd.Series(pd.to_datetime(["2020-01-02", "2020-07-01"]).tz_localize("UTC").tz_convert("Europe/London"))
    assert [str(d) for d in zone_dates(london, "f")[0]] == ["2020-01-02", "2020-07-01"]
    # Seen from New York it is 19:00 or 20:00 the day before: refused, not shifted.
    with pytest.raises(InputDataError, match=r"f: column 'date' holds midnight UTC shown in time zone America/New_York"):
        zone_dates(london.dt.tz_convert("America/New_York"), "f")
