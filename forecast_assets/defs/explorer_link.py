"""The link from the Dagster UI to the forecast explorer (`make explore`) in the forecast assets' descriptions.

A description is what the UI shows on an asset's page; the explorer is where a forecast's day is looked
at (fan chart, table of steps, model comparison). Its address is Settings.explorer_url
(FORECAST_EXPLORER_URL), so a deployment that serves the explorer elsewhere links there.
"""

from __future__ import annotations

import dagster as dg

# The assets whose rows the explorer shows: every model's forecasts, the actuals, the scores, the comparison.
LINKED_PREFIXES = (("forecasts",), ("actuals",), ("forecast_metadata",), ("model_performance",))


def explorer_note(url: str) -> str:
    return f"\n\nLook at any day's forecasts in the [forecast explorer]({url}) (`make explore`)."


def with_explorer_link(asset: dg.AssetsDefinition, url: str) -> dg.AssetsDefinition:
    """`asset` with the explorer's link appended to the description of each of its linked keys."""
    def link(spec: dg.AssetSpec) -> dg.AssetSpec:
        if not any(tuple(spec.key.path[:len(p)]) == p for p in LINKED_PREFIXES):
            return spec
        return spec.replace_attributes(description=(spec.description or "") + explorer_note(url))

    return asset.map_asset_specs(link)
