"""The forecast tables as Delta, written by Spark itself (Databricks): the Spark engine's store.

The Spark engine's rows never leave the cluster: each group's frame replaces
its days in `<catalog>.forecast.<table>` with `replaceWhere`, which Delta
applies atomically (a reader sees the old rows or the new ones). Only the write
side lives here; reads go through the SQL stores (databricks_sql).

replaceWhere takes a predicate string, not parameters: every name formatted
into it is checked first (catalog, commodity and version patterns, registered
models); dates are `date` objects, formatted as ISO text.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Mapping, Sequence

from forecast_assets.config import ConfigError, check_name
from forecast_assets.core.models import model_class
from forecast_assets.storage.schema import qualified

_CATALOG_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def days_predicate(days: Sequence[date]) -> str:
    """`forecast_start_date` on exactly these days, one BETWEEN per run of consecutive days.

    Only `date` objects are formatted into it (ISO text); anything else is refused.
    """
    ds = sorted(set(days))
    if not ds or not all(type(d) is date for d in ds):
        raise ConfigError(f"replaceWhere needs a non-empty list of dates, got {days!r}")
    runs = [[ds[0], ds[0]]]
    for d in ds[1:]:
        if (d - runs[-1][1]).days == 1:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    terms = [f"forecast_start_date BETWEEN '{a}' AND '{b}'" for a, b in runs]
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def vintage_days_predicate(days: Sequence[date], vintages: Sequence[int] | None) -> str:
    """The (day, vintage) pairs written (vintages[i] of days[i]; None: vintage 1 of every day), so a
    new vintage replaces only itself (a retried write) and earlier vintages stay."""
    by: dict[int, list[date]] = {}
    for d, v in zip(days, vintages if vintages is not None else [1] * len(days)):
        by.setdefault(int(v), []).append(d)
    terms = [f"(COALESCE(vintage, 1) = {v} AND {days_predicate(ds)})" for v, ds in sorted(by.items())]
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


class DeltaStore:
    def __init__(self, catalog: str):
        if not isinstance(catalog, str) or not _CATALOG_RE.match(catalog):
            raise ConfigError(f"catalog name {catalog!r} is not a plain identifier")
        self.catalog = catalog

    def replace_forecasts(self, frames: Mapping[str, object], model_version: str,
                          groups: Sequence[tuple[str, str, list[date]]]) -> None:
        """For each (commodity, model_name, days[, vintages]) group, replace the rows of its days' vintages
        (vintages[i] of days[i], default 1) in each table of `frames` ({table: Spark DataFrame}) with that
        frame's rows of the group: a new vintage is added, earlier ones stay.

        Exactly the group's days are replaced, as runs of consecutive days: a plan skips days already
        complete, and a range from the first to the last day would delete the skipped days' rows.
        """
        for commodity, model_name, *_ in groups:
            check_name(commodity)
            model_class(model_name)
        if not isinstance(model_version, str) or not _VERSION_RE.match(model_version):
            raise ConfigError(f"model version {model_version!r} is not a valid version label")
        for table, df in frames.items():
            for commodity, model_name, days, *vintages in groups:
                rows = f"commodity = '{commodity}' AND model_name = '{model_name}' AND {days_predicate(days)}"
                on_vintages = vintage_days_predicate(days, vintages[0] if vintages else None)
                pred = (f"commodity = '{commodity}' AND model_name = '{model_name}' "
                        f"AND model_version = '{model_version}' AND {on_vintages}")
                (df.where(rows).write.format("delta").mode("overwrite").option("replaceWhere", pred)
                 .saveAsTable(qualified(table, self.catalog)))
