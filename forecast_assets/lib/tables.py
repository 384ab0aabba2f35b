"""A DataFrame as a Dagster table (TableMetadataValue): typed columns the UI can sort and filter."""

from __future__ import annotations

import math

import dagster as dg
import pandas as pd
from pandas.api import types


def _type(s: pd.Series) -> str:
    if types.is_bool_dtype(s):
        return "bool"
    if types.is_integer_dtype(s):
        return "int"
    if types.is_float_dtype(s):
        return "float"
    return "string"


def _cell(v, kind: str):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None  # an empty cell, not the text 'nan'
    if kind == "int":
        return int(v)
    if kind == "float":
        return float(v)
    if kind == "bool":
        return bool(v)
    return str(v.date()) if isinstance(v, pd.Timestamp) else str(v)


def frame_table(df: pd.DataFrame, descriptions: dict[str, str] | None = None) -> dg.TableMetadataValue:
    kinds = {c: _type(df[c]) for c in df.columns}
    schema = dg.TableSchema(columns=[dg.TableColumn(str(c), kinds[c], description=(descriptions or {}).get(c))
                                     for c in df.columns])
    records = [dg.TableRecord({str(c): _cell(v, kinds[c]) for c, v in zip(df.columns, row)})
               for row in df.itertuples(index=False)]
    return dg.MetadataValue.table(records, schema=schema)
