"""The Dagster instance class named in dagster.yaml (`instance_class:`), so the patches run everywhere.

definitions.py installs lib/dagster_patches only where the code location is imported (code server,
run workers). The webserver and the daemon never import it, yet they do the heavy partition work:
the webserver validates a backfill on launch, the daemon iterates it, both through the day ->
semiannual-window lookup. Every Dagster process that loads this instance imports this module first
(Dagster imports `instance_class` before it reads the rest of dagster.yaml), so importing it installs
the patches. The class adds nothing else: storage, run coordinator and `concurrency:` stay as
dagster.yaml says.

On an unsupported Dagster version the import raises UnsupportedDagsterVersion, so the webserver and
the daemon refuse to start with the message that says what to do: the code location refuses that
version too, so a webserver that started would only show a location that failed to load.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from forecast_assets.defs.partitions import SEMIANNUAL_CRON
from forecast_assets.lib import dagster_patches

dagster_patches.install(window_crons=[SEMIANNUAL_CRON])


class ForecastInstance(dg.DagsterInstance):
    """DagsterInstance unchanged; it exists so that dagster.yaml makes every process import this module."""

    @classmethod
    def config_schema(cls) -> dict:
        # Dagster asks a custom instance class for its own keys in dagster.yaml; this one has none.
        return {}

    @classmethod
    def config_defaults(cls, base_dir: str):
        # Dagster's own defaults (sqlite storage under DAGSTER_HOME, queued runs) for what dagster.yaml omits.
        return InstanceRef.config_defaults(base_dir)
