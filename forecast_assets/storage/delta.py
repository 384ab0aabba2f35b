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


class DeltaStore:
    def __init__(self, catalog: str):
        if not isinstance(catalog, str) or not _CATALOG_RE.match(catalog):
            raise ConfigError(f"catalog name {catalog!r} is not a plain identifier")
        self.catalog = catalog

    def replace_forecasts(self, frames: Mapping[str, object], model_version: str,
                          groups: Sequence[tuple[str, str, list[date]]]) -> None:
        """For each (commodity, model_name, days) group, replace the rows of its days in each table of
        `frames` ({table: Spark DataFrame}) with that frame's rows of the group.

        The days replaced are those from the group's first to its last (days sorted).
        """
        for commodity, model_name, _ in groups:
            check_name(commodity)
            model_class(model_name)
        if not isinstance(model_version, str) or not _VERSION_RE.match(model_version):
            raise ConfigError(f"model version {model_version!r} is not a valid version label")
        for table, df in frames.items():
            for commodity, model_name, days in groups:
                rows = (f"commodity = '{commodity}' AND model_name = '{model_name}' "
                        f"AND forecast_start_date BETWEEN '{days[0]}' AND '{days[-1]}'")
                pred = (f"commodity = '{commodity}' AND model_name = '{model_name}' "
                        f"AND model_version = '{model_version}' "
                        f"AND forecast_start_date BETWEEN '{days[0]}' AND '{days[-1]}'")
                (df.where(rows).write.format("delta").mode("overwrite").option("replaceWhere", pred)
                 .saveAsTable(qualified(table, self.catalog)))
