"""forecast-assets import against a database holding data, models, forecasts and scores: a merge keeps
the stored history, --replace says what it removes, and the documented overrides and handlings work.
Every other table (and artifact) is compared with a full dump before and after."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from forecast_assets import cli
from forecast_assets.config import ConfigError, Settings

from .conftest import dump
from .files import base_rows, good_frame, write_csv


def _env(monkeypatch, settings):
    monkeypatch.setenv("FORECAST_DUCKDB_PATH", str(settings.duckdb_path))
    monkeypatch.setenv("FORECAST_ARTIFACT_DIR", str(settings.artifact_dir))


def _unified(settings) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS commodity (READ_ONLY)", [str(settings.duckdb_path)])
        return con.execute("SELECT * FROM commodity.silver.unified_data ORDER BY ALL").df()
    finally:
        con.close()


def _without_unified(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "silver.unified_data"}


def _coffee_rows(stored: pd.DataFrame, start, n, close_factor=1.0) -> list[dict]:
    """Rows for the stored Coffee regions on n weekdays from start, market columns from the last stored day."""
    last = stored[(stored["commodity"] == "Coffee") & (stored["is_trading_day"] == 1)].iloc[-1]
    rows = []
    for d in pd.bdate_range(start, periods=n):
        for reg in sorted(stored.loc[stored["commodity"] == "Coffee", "region"].unique()):
            rows.append({"date": d.strftime("%Y-%m-%d"), "commodity": "Coffee", "region": reg,
                         "close": f"{last['close'] * close_factor:.4f}"})
    return rows


def test_appending_days_keeps_the_history_and_every_other_table(db, tmp_path, monkeypatch, capsys):
    _, settings = db
    _env(monkeypatch, settings)
    before, stored = dump(settings, tmp_path / "before"), _unified(settings)
    path = write_csv(tmp_path / "new.csv", _coffee_rows(stored, "2025-03-03", 10))
    assert cli.main(["import", str(path)]) == 0
    out = capsys.readouterr().out
    n_stored = stored[(stored["commodity"] == "Coffee") & (stored["is_trading_day"] == 1)]["date"].nunique()
    assert f"Coffee: 10 trading days added, 0 closes revised, 0 unchanged, {n_stored} stored trading days kept" in out
    after = _unified(settings)
    old = after[after["date"] <= "2025-02-28"]
    pd.testing.assert_frame_equal(old.reset_index(drop=True), stored.reset_index(drop=True), check_dtype=False)
    coffee = after[after["commodity"] == "Coffee"]
    assert coffee[coffee["is_trading_day"] == 1]["date"].nunique() == n_stored + 10
    assert _without_unified(dump(settings, tmp_path / "after")) == _without_unified(before)


def test_replace_is_explicit_and_says_what_it_removes(db, tmp_path, monkeypatch, capsys):
    _, settings = db
    _env(monkeypatch, settings)
    stored = _unified(settings)
    n_stored = stored[(stored["commodity"] == "Coffee") & (stored["is_trading_day"] == 1)]["date"].nunique()
    path = write_csv(tmp_path / "p.csv", base_rows(start="2025-03-03"))
    assert cli.main(["import", str(path), "--replace"]) == 0
    out = capsys.readouterr().out
    assert f"Coffee: replaced its {n_stored} stored trading days with the file's 80; {n_stored} trading days" in out
    after = _unified(settings)
    assert after[after["commodity"] == "Coffee"]["date"].min() == pd.Timestamp("2025-03-03")
    assert len(after[after["commodity"] == "Sugar"]) == len(stored[stored["commodity"] == "Sugar"])


def test_a_real_jump_is_accepted_with_allow_jumps(db, tmp_path, monkeypatch, capsys):
    _, settings = db
    _env(monkeypatch, settings)
    rows = base_rows(commodity="Cocoa")
    for r in rows[40:]:
        r["close"] = f"{float(r['close']) / 2.5:.2f}"  # a crash to 40% in one day, and it stays there
    path = write_csv(tmp_path / "cocoa.csv", rows)
    assert cli.main(["import", str(path)]) == 2
    assert "row 41 (2020-02-26, Cocoa): close 48 after 119.5" in capsys.readouterr().err
    assert cli.main(["import", str(path), "--allow-jumps"]) == 0
    assert (_unified(settings)["commodity"] == "Cocoa").any()


def test_a_zone_aware_date_is_its_date_in_its_zone_and_the_report_says_so(db, tmp_path, monkeypatch, capsys):
    _, settings = db
    _env(monkeypatch, settings)
    df = good_frame().assign(commodity="Cocoa")
    df["date"] = df["date"].dt.tz_localize("America/New_York")  # midnight in New York: 05:00 UTC
    df.to_parquet(tmp_path / "tz.parquet")
    assert cli.main(["import", str(tmp_path / "tz.parquet")]) == 0
    out = capsys.readouterr().out
    assert "column 'date' is time-zone aware (America/New_York): each row's date is its date in " \
           "America/New_York, not converted to UTC" in out
    cocoa = _unified(settings).query("commodity == 'Cocoa' and is_trading_day == 1")
    assert cocoa["date"].min() == pd.Timestamp("2020-01-01") and set(cocoa["date"].dt.dayofweek) == {0, 1, 2, 3, 4}


def test_forecast_commodities_equal_but_for_case_are_refused(db, tmp_path, monkeypatch, capsys):
    _, settings = db
    _env(monkeypatch, settings)
    with pytest.raises(ConfigError, match=r"names 'Coffee' and 'coffee', which differ only in case"):
        Settings.from_env({"FORECAST_COMMODITIES": "Coffee,coffee"})
    before = dump(settings, tmp_path / "before")
    monkeypatch.setenv("FORECAST_COMMODITIES", "Coffee,coffee")
    path = write_csv(tmp_path / "p.csv", base_rows(commodity="Cocoa"))
    assert cli.main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: FORECAST_COMMODITIES='Coffee,coffee' names 'Coffee' and 'coffee'") and \
        err.count("\n") == 1
    assert dump(settings, tmp_path / "after") == before


def test_a_file_name_spelled_like_forecast_commodities_but_for_case_is_refused(db, tmp_path, monkeypatch, capsys):
    _, settings = db
    _env(monkeypatch, settings)
    monkeypatch.setenv("FORECAST_COMMODITIES", "Coffee,Sugar,Cocoa")
    before = dump(settings, tmp_path / "before")
    path = write_csv(tmp_path / "p.csv", base_rows(commodity="cocoa"))
    assert cli.main(["import", str(path)]) == 2
    assert "commodity 'cocoa' in the file and commodity 'Cocoa' in FORECAST_COMMODITIES differ only in case" \
        in capsys.readouterr().err
    assert dump(settings, tmp_path / "after") == before


def test_a_revision_for_some_regions_of_a_date_only_is_refused_naming_both_rows(db, tmp_path, monkeypatch, capsys):
    _, settings = db
    _env(monkeypatch, settings)
    before, stored = dump(settings, tmp_path / "before"), _unified(settings)
    rows = [r for r in _coffee_rows(stored, "2025-02-27", 1, close_factor=1.05) if r["region"] != "Colombia_Huila"]
    path = write_csv(tmp_path / "rev.csv", rows)
    assert cli.main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "merged with commodity.silver.unified_data: rows (2025-02-27, Coffee, regions" in err
    assert "Colombia_Huila" in err and "must be the same on every region row of a date" in err
    assert dump(settings, tmp_path / "after") == before
