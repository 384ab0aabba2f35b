"""Small input files for the importer's tests: weekday rows as text, like a CSV a user would export."""

from __future__ import annotations

import pandas as pd

N = 80  # weekdays in the base file; more than the default min_trading_days (60)


def base_rows(n: int = N, commodity: str = "Coffee", start: str = "2020-01-01", region: str | None = None,
              extra: dict | None = None) -> list[dict]:
    rows = []
    for i, d in enumerate(pd.bdate_range(start, periods=n)):
        row = {"date": d.strftime("%Y-%m-%d"), "commodity": commodity, "close": f"{100 + 0.5 * i:.2f}"}
        if region is not None:
            row["region"] = region
        row.update(extra or {})
        rows.append(row)
    return rows


def write_csv(path, rows: list[dict], columns: list[str] | None = None):
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def good_frame() -> pd.DataFrame:
    """The base rows as a typed frame, as a Parquet file would hold them."""
    df = pd.DataFrame(base_rows())
    df["date"] = pd.to_datetime(df["date"])
    df["close"] = df["close"].astype(float)
    return df
