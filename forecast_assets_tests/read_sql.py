"""SQL the tests read a DuckDB store's tables with, straight from its file.

The application reads through the store's named methods (storage.base); tests
look at the tables directly, so what they check does not depend on those methods.
"""

from __future__ import annotations

import pandas as pd

from forecast_assets.storage.duckdb_store import DuckDBStore


def read_sql(store: DuckDBStore, text: str, params: list | None = None) -> pd.DataFrame:
    with store.connect() as con:
        return con.execute(text, params or []).df()
