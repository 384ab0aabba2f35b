"""Input fingerprints: a day's changes exactly when a row it read changes (core.fingerprint)."""

import numpy as np
import pandas as pd

from forecast_assets.core.data import cutoff_positions
from forecast_assets.core.fingerprint import input_fingerprints


def _daily(n=300):
    idx = pd.bdate_range("2024-01-01", periods=n, name="date")
    rng = np.random.default_rng(0)
    return pd.DataFrame({"close": 100 + rng.normal(size=n).cumsum(), "vix": 20.0, "rain_mm": rng.random(n)},
                        index=idx)


def _fps(daily, days, model="m1"):
    return input_fingerprints(daily, cutoff_positions(daily.index, days), model)


def test_only_days_whose_input_rows_changed_get_another_fingerprint():
    daily = _daily()
    days = list(daily.index[1:] + pd.Timedelta(days=1))  # each day's cutoff is the row before it
    base = _fps(daily, days)
    assert len(set(base)) == len(base)  # every day read a different set of rows
    for col, value in (("close", 1e-9), ("vix", 0.5), ("rain_mm", 1e-12)):
        changed = daily.copy()
        changed.iloc[150, changed.columns.get_loc(col)] += value
        got = _fps(changed, days)
        moved = [i for i, (a, b) in enumerate(zip(base, got)) if a != b]
        assert moved == list(range(149, len(days))), col  # days with cutoff at row 150 or later
    appended = pd.concat([daily, _daily(310).iloc[300:].set_axis(
        pd.bdate_range(daily.index[-1] + pd.offsets.BDay(), periods=10, name="date"))])
    assert _fps(appended, days) == base  # rows after every cutoff (actuals) change nothing


def test_a_swap_of_two_closes_a_model_and_no_data_each_change_it():
    daily = _daily()
    days = [daily.index[-1] + pd.Timedelta(days=1)]
    swapped = daily.copy()
    swapped.iloc[[10, 11], 0] = swapped.iloc[[11, 10], 0].to_numpy()
    assert _fps(swapped, days) != _fps(daily, days)
    assert _fps(daily, days, "m2") != _fps(daily, days)
    early = [daily.index[0]]  # no row before the day: still a fingerprint (of the model alone)
    assert len(_fps(daily, early)[0]) == 16
    assert _fps(daily, early) != _fps(daily, early, "m2")
