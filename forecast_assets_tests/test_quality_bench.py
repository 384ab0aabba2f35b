"""The pure parts of `make quality` (bench/quality_real.py): the import rows, the days, the regimes, PASS/FAIL.

The benchmark itself is not a test (it takes minutes and its figures move with the models).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_assets import cli
from forecast_assets.storage.duckdb_store import DuckDBStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import quality_real as q  # noqa: E402


def _closes(n: int = 80) -> pd.Series:
    days = pd.bdate_range("2020-03-02", periods=n)
    s = pd.Series(20.0 + np.arange(n) * 0.1, index=days)
    s.iloc[10] = np.nan  # a holiday in a FRED series
    s.iloc[40] = -37.63  # WTI on 2020-04-20
    return s


def test_price_rows_drop_missing_and_non_positive_closes_and_say_so():
    rows, notes = q.price_rows(_closes(), "WTI")
    assert list(rows.columns) == ["date", "commodity", "close"]
    assert len(rows) == 78 and (rows["close"] > 0).all() and (rows["commodity"] == "WTI").all()
    assert rows["date"].iloc[0] == "2020-03-02"
    assert notes[0] == "WTI: dropped 1 days without a close (holidays in the source)"
    assert "dropped 1 days with a close <= 0" in notes[1] and "2020-04-27 -37.63" in notes[1]


def test_the_rows_go_through_forecast_assets_import_which_refuses_the_raw_negative_close(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path))
    raw = _closes().dropna()
    pd.DataFrame({"date": raw.index.strftime("%Y-%m-%d"), "commodity": "WTI", "close": raw.values}).to_csv(
        tmp_path / "raw.csv", index=False)
    assert cli.main(["import", str(tmp_path / "raw.csv")]) == 2
    assert "not a positive price" in capsys.readouterr().err

    rows, _ = q.price_rows(_closes(), "WTI")
    rows.to_csv(tmp_path / "WTI.csv", index=False)
    assert cli.main(["import", str(tmp_path / "WTI.csv")]) == 0
    got = DuckDBStore(tmp_path / "forecast.duckdb").read_unified("WTI")
    trading = got[got["is_trading_day"] == 1]
    assert len(trading) == 78
    np.testing.assert_allclose(trading["close"].to_numpy(), rows["close"].to_numpy())
    dropped = got[pd.to_datetime(got["date"]) == pd.Timestamp("2020-04-27")]
    assert dropped["is_trading_day"].tolist() == [0]  # carried forward, not a session


def test_forecast_days_are_weekdays_in_the_regimes_every_nth():
    regimes = [q.Regime("a", date(2024, 1, 1), date(2024, 1, 7)), q.Regime("b", date(2024, 3, 1), date(2024, 3, 4))]
    assert q.forecast_days(date(2024, 1, 1), date(2024, 1, 7)) == [date(2024, 1, d) for d in range(1, 6)]
    assert q.forecast_days(date(2024, 1, 1), date(2024, 12, 31), regimes) == [
        *(date(2024, 1, d) for d in range(1, 6)), date(2024, 3, 1), date(2024, 3, 4)]
    assert q.forecast_days(date(2024, 1, 1), date(2024, 1, 7), every=2) == [date(2024, 1, d) for d in (1, 3, 5)]


def test_regime_slice_keeps_both_ends():
    f = pd.DataFrame({"forecast_start_date": pd.to_datetime(["2008-06-30", "2008-07-01", "2009-06-30", "2009-07-01"])})
    got = q.regime_slice(f, q.Regime("crash", date(2008, 7, 1), date(2009, 6, 30)))
    assert got["forecast_start_date"].dt.strftime("%Y-%m-%d").tolist() == ["2008-07-01", "2009-06-30"]


def test_every_regime_of_every_series_is_inside_its_forecast_period():
    for s in [*q.SERIES.values(), *q.SYNTHETIC]:
        assert s.quick and set(s.quick) <= {r.name for r in s.regimes}
        for r in s.regimes:
            assert s.first <= r.start < r.end <= s.last, (s.name, r.name)


def test_report_steps_follow_the_horizon():
    assert q.report_steps(14) == [1, 7, 14]
    assert q.report_steps(21) == [1, 10, 21]
    assert q.report_steps(1) == [1]


@pytest.mark.parametrize("cov95, cov80, ok", [
    (0.92, 0.75, True), (0.975, 0.85, True), (0.919, 0.80, False), (0.976, 0.80, False),
    (0.95, 0.749, False), (0.95, 0.851, False), (np.nan, 0.80, False),
])
def test_coverage_targets_are_closed_intervals(cov95, cov80, ok):
    steps = q.report_steps(14)
    fails = q.judge_line({k: 0.95 for k in steps} | {7: cov95}, {k: 0.80 for k in steps} | {14: cov80}, None)
    assert (fails == []) is ok


def test_crps_fails_above_1_02_at_any_step_and_names_the_worst():
    assert q.judge_line({1: 0.95}, {1: 0.8}, np.full(14, 1.02)) == []
    fails = q.judge_line({1: 0.95}, {1: 0.8}, np.r_[np.full(12, 0.9), 1.0201, 1.3])
    assert fails == ["crps > 1.02x at 2/14 steps (max 1.300x @14)"]
    assert q.judge_line({1: 0.95}, {1: 0.8}, np.r_[np.full(13, 0.9), np.nan]) != []  # a step with no ratio
    assert q.judge_line({1: 0.5, 7: 0.99}, {1: 0.8}, None) == ["cov95 low @1 (0.500)", "cov95 high @7 (0.990)"]


def test_a_coverage_miss_is_within_noise_only_if_every_missing_figure_s_interval_reaches_its_band():
    cov95, cov80 = {1: 0.95, 7: 0.95, 14: 0.992}, {1: 0.8, 7: 0.8, 14: 0.77}
    iv = {1: (0.9, 0.97), 7: (0.9, 0.97), 14: (0.95, 1.0)}
    iv80 = {1: (0.7, 0.9), 7: (0.7, 0.9), 14: (0.7, 0.85)}
    assert q.judge_noise(cov95, cov80, iv, iv80, None) == "FAIL (within noise)"
    assert q.judge_noise(cov95, cov80, iv | {14: (0.976, 1.0)}, iv80, None) == "FAIL"  # interval clear of the band
    assert q.judge_noise(cov95, cov80, iv | {14: (np.nan, np.nan)}, iv80, None) == "FAIL"  # no interval, no allowance
    assert q.judge_noise(cov95, cov80 | {7: 0.70}, iv, iv80 | {7: (0.6, 0.749)}, None) == "FAIL"  # one of two misses
    assert q.judge_noise(cov95 | {14: 0.95}, cov80, {}, {}, None) == "PASS"
    # a CRPS miss is judged as printed: no noise allowance for it
    assert q.judge_noise(cov95, cov80, iv, iv80, np.r_[np.full(13, 1.0), 1.021]) == "FAIL"
    assert q.judge_noise(cov95, cov80, iv, iv80, np.full(14, 1.0)) == "FAIL (within noise)"


def test_the_table_gives_coverage_intervals_at_the_judged_steps_from_the_hits_in_day_order():
    days = pd.bdate_range("2017-01-02", periods=60)
    rng = np.random.default_rng(0)
    rows = [{"commodity": "SP500", "model_name": m, "model_version": "v1.0", "forecast_start_date": d, "day_ahead": k,
             "forecast_date": d, "crps": 1.0, "in_95": float(rng.random() < 0.9), "in_80": float(rng.random() < 0.7)}
            for m in q.MODELS for d in days for k in (1, 2, 3, 4)]
    scores = pd.DataFrame(rows)
    es = pd.DataFrame({"forecast_start_date": np.tile(days, 3), "es": 1.0, "model_name": np.repeat(list(q.MODELS), 60)})
    series = q.Series("SP500", "sp500:Close", date(2017, 1, 1), date(2017, 6, 30),
                      (q.Regime("r", date(2017, 1, 1), date(2017, 6, 30)),), ("r",))
    t = q.table(series, scores, es, 4, series.regimes).set_index(["model", "step"])
    for k in (1, 2, 4):  # report_steps(4)
        row = t.loc[("xgboost", k)]
        assert row.coverage_95_lo <= row.coverage_95 <= row.coverage_95_hi
        assert row.coverage_80_lo < row.coverage_80 < row.coverage_80_hi
    assert t.loc[("xgboost", 4), "coverage_80_hi"] - t.loc[("xgboost", 4), "coverage_80_lo"] > 0.1
    assert np.isnan(t.loc[("naive", 3), "coverage_95_lo"])  # a step not judged has none


def test_the_best_model_must_be_below_naive():
    assert q.judge_best({"naive": 1.0, "xgboost": 1.1, "sarimax": 0.98}) == ("sarimax", pytest.approx(0.98), True)
    assert q.judge_best({"naive": 1.0, "xgboost": 1.1, "sarimax": 1.0})[2] is False
    assert q.judge_best({"naive": 1.0})[2] is False


def test_the_ensemble_must_be_below_every_member_at_each_step_and_covered():
    crps = {"naive": {1: 1.0, 7: 2.0}, "xgboost": {1: 1.1, 7: 1.9}, "ensemble": {1: 0.99, 7: 1.95}}
    assert q.judge_ensemble(crps, {1: 0.95, 7: 0.93}) == ["crps not below xgboost @7"]
    crps["ensemble"][7] = 1.89
    assert q.judge_ensemble(crps, {1: 0.95, 7: 0.93}) == []
    assert q.judge_ensemble(crps, {1: 0.91, 7: 0.98}) == ["cov95 out of [0.92, 0.975] @1,7"]
    assert q.judge_ensemble({**crps, "ensemble": {}}, {1: 0.95}) == ["crps not below naive,xgboost @1"]


def test_the_table_compares_crps_on_the_days_every_model_has():
    days = pd.to_datetime(["2017-01-02", "2017-01-03", "2017-01-04"])
    rows = []
    for m, crps in (("naive", [1.0, 1.0, 1.0]), ("xgboost", [0.5, 0.5, np.nan]), ("sarimax_auto_weather", [2, 2, 2])):
        for d, c in zip(days, crps):
            for step in (1, 2):
                rows.append({"commodity": "SP500", "model_name": m, "model_version": "v1.0", "forecast_start_date": d,
                             "day_ahead": step, "forecast_date": d + pd.offsets.BDay(step - 1),
                             "crps": c if m != "xgboost" or not np.isnan(c) else np.nan, "in_95": 1.0, "in_80": 0.0})
    scores = pd.DataFrame(rows).dropna(subset=["crps"])  # read_scores returns rows with a CRPS
    es = pd.DataFrame({"forecast_start_date": np.tile(days, 3), "es": [1, 1, 1, 2, 2, 2, 4, 4, 4.0],
                       "model_name": np.repeat(list(q.MODELS), 3)})
    series = q.Series("SP500", "sp500:Close", date(2017, 1, 1), date(2017, 1, 31),
                      (q.Regime("r", date(2017, 1, 1), date(2017, 1, 31)),), ("r",))
    t = q.table(series, scores, es, 2, series.regimes).set_index(["model", "step"])
    assert t.loc[("xgboost", 1), "crps_ratio"] == pytest.approx(0.5)
    assert t.loc[("sarimax_auto_weather", 2), "crps_ratio"] == pytest.approx(2.0)
    assert t.loc[("naive", 1), "n"] == 3 and t.loc[("naive", 1), "n_common"] == 2
    assert t.loc[("xgboost", 1), "es_ratio"] == pytest.approx(2.0)
    assert t.loc[("naive", 1), "coverage_95"] == 1.0 and t.loc[("naive", 1), "coverage_80"] == 0.0


def test_a_model_that_did_not_run_fails_its_line_and_leaves_the_others_compared():
    days = pd.to_datetime(["2017-01-02", "2017-01-03"])
    scores = pd.DataFrame([{"commodity": "WTI", "model_name": m, "model_version": "v1.0", "forecast_start_date": d,
                            "day_ahead": 1, "forecast_date": d,
                            "crps": c, "in_95": 1.0, "in_80": 1.0}
                           for m, c in (("naive", 1.0), ("sarimax_auto_weather", 0.9)) for d in days])
    es = pd.DataFrame(columns=["forecast_start_date", "es", "model_name"])
    series = q.Series("WTI", "wti:DCOILWTICO", date(2017, 1, 1), date(2017, 1, 31),
                      (q.Regime("r", date(2017, 1, 1), date(2017, 1, 31)),), ("r",))
    t = q.table(series, scores, es, 1, series.regimes).set_index("model")
    assert t.loc["sarimax_auto_weather", "crps_ratio"] == pytest.approx(0.9)
    assert t.loc["xgboost", "n"] == 0 and np.isnan(t.loc["xgboost", "crps_ratio"])
    assert q.judge_line({1: t.loc["xgboost", "coverage_95"]}, {1: 0.8}, [t.loc["xgboost", "crps_ratio"]]) == [
        "cov95 low @1 (nan)", "crps > 1.02x at 1/1 steps (max nanx @1)"]
