"""A file to import and the table are refused for the same defect in the same words.

Each defect is applied to Coffee's rows as the table holds them; the result is
once written to a CSV and imported, once written straight into the table (no
checks, as another loader would) and read. Only the place differs: the file
names its row number, the table only the row's key.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from forecast_assets.core.importer import prepare_unified, read_table
from forecast_assets.core.input_rules import InputDataError

D = pd.Timestamp("2024-07-10")
GAP = (pd.Timestamp("2024-06-19"), pd.Timestamp("2024-08-19"))


def _on(df, col, value, region=None):
    m = df["date"] == D
    if region is not None:
        m &= df["region"] == region
    df.loc[m, col] = value
    return df


def _dup(df):
    return pd.concat([df, df[(df["date"] == D) & (df["region"] == "Colombia_Huila")]], ignore_index=True)


def _gap(df):
    df.loc[df["date"].between(*GAP), "is_trading_day"] = 0
    return df


def _region_gap(df):
    return df[~(df["date"].between(*GAP) & (df["region"] == "Ethiopia_Sidamo"))].reset_index(drop=True)


DEFECTS = {
    "close_zero": lambda df: _on(df, "close", 0.0),
    "close_negative": lambda df: _on(df, "close", -4.0, "Colombia_Huila"),
    "close_nan": lambda df: _on(df, "close", np.nan),
    "close_inf": lambda df: _on(df, "close", np.inf),
    "weather_minus_inf": lambda df: _on(df, "temp_max_c", -np.inf, "Colombia_Huila"),
    "volume_negative": lambda df: _on(df, "volume", -1.0),
    "humidity_over_100": lambda df: _on(df, "humidity_mean_pct", 101.0, "Colombia_Huila"),
    "trading_flag_2": lambda df: _on(df, "is_trading_day", 2),
    "region_with_sql": lambda df: _on(df, "region", "Huila'; DROP TABLE x; --", "Colombia_Huila"),
    "region_missing": lambda df: _on(df, "region", None, "Colombia_Huila"),
    "duplicate_row": _dup,
    "regions_disagree_on_close": lambda df: _on(df, "close", 1.0, "Colombia_Huila"),
    "regions_disagree_on_fx": lambda df: _on(df, "cop_usd", 1.0, "Vietnam_CentralHighlands"),
    "gap_of_months": _gap,
    "gap_in_one_region": _region_gap,
}


def problem(msg: str) -> str:
    """The message without its source and without the row numbers only a file has."""
    text = msg.split(": ", 1)[1]
    return re.sub(r"^(\d+ rows|rows? \d+ and \d+|rows? \d+|rows?) \(", "(", text)


@pytest.mark.parametrize("defect", DEFECTS.values(), ids=DEFECTS.keys())
def test_file_and_table_are_refused_in_the_same_words(defect, db, tmp_path):
    store, _ = db
    bad = defect(store.read_unified("Coffee").copy())

    path = tmp_path / "coffee.csv"
    bad.assign(date=bad["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    with pytest.raises(InputDataError) as from_file:
        prepare_unified(read_table(path), source=str(path))

    store.replace_unified(bad)  # straight in, no checks
    with pytest.raises(InputDataError) as from_table:
        store.read_unified("Coffee")

    file_msg, table_msg = str(from_file.value), str(from_table.value)
    assert file_msg.startswith(f"{path}: ") and table_msg.startswith("commodity.silver.unified_data: ")
    assert problem(file_msg) == problem(table_msg), (file_msg, table_msg)
    assert re.search(r"\brows? \d+", file_msg) or "trading data from" in file_msg  # the file names its row
