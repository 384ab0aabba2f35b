import numpy as np
import pandas as pd

from forecast_assets.core.data import cutoff_positions, daily_series


def test_one_row_per_trading_day_with_weather_averaged_over_regions():
    df = pd.DataFrame({
        "date": pd.to_datetime(["2024-01-05"] * 3 + ["2024-01-06"] * 3 + ["2024-01-08"] * 3),
        "is_trading_day": [1] * 3 + [0] * 3 + [1] * 3,
        "commodity": "Coffee",
        "region": ["a", "b", "c"] * 3,
        "close": [100.0] * 6 + [101.0] * 3,
        "temp_min_c": [1.0, 2.0, np.nan, 5, 5, 5, 3.0, 4.0, 5.0],
    })
    d = daily_series(df, "Coffee")
    assert list(d.index.strftime("%Y-%m-%d")) == ["2024-01-05", "2024-01-08"]  # each date once, weekend dropped
    assert d["close"].tolist() == [100.0, 101.0]
    assert d["temp_min_c"].tolist() == [1.5, 4.0]  # mean over regions, NaN ignored


def test_sample_has_one_row_per_date(sample_unified, coffee_daily):
    assert coffee_daily.index.is_unique and coffee_daily.index.is_monotonic_increasing
    n_dates = sample_unified[(sample_unified.commodity == "Coffee") & (sample_unified.is_trading_day == 1)]["date"].nunique()
    assert len(coffee_daily) == n_dates


def test_cutoff_is_the_last_trading_day_strictly_before():
    td = pd.DatetimeIndex(["2024-01-04", "2024-01-05", "2024-01-08"])
    starts = np.array(["2024-01-04", "2024-01-06", "2024-01-08", "2024-01-09"], dtype="datetime64[D]")
    assert cutoff_positions(td, starts).tolist() == [-1, 1, 1, 2]
