"""Merging an imported file into the stored history of its commodities (pure: frames in, frames out).

    plan = merge_plan(stored, incoming, source="prices.csv")   # raises InputDataError on a bad union
    store.merge_unified(plan.rows)                              # one MERGE, all or nothing
    print(plan.report())

Rules (README "Backfills, reruns"):
- a row the file gives (a date of a commodity and region) is inserted, or replaces the stored row of that
  key whole (columns the file lacks become NULL, as in a first import);
- a calendar day the importer filled in (a weekend, a holiday) is inserted only where nothing is stored:
  it never overwrites a stored day, trading or not;
- stored dates the file does not give are kept; days missing between the stored history and the file
  (the weekend between a stored Friday and a file's Monday) are filled as the importer fills, from the
  last row before them, with is_trading_day = 0;
- the union is checked as a whole (gaps, regions that disagree, duplicate keys: core.input_rules) and
  every one-day move that touches a row of the file against the jump limit (core.import_guards), so a
  revised close that jumps from its stored neighbours is refused like one inside a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .import_guards import check_jumps
from .input_rules import UNIFIED_COLUMNS, InputDataError, check_history, validate_unified

KEY = ["commodity", "region", "date"]


@dataclass
class CommodityMerge:
    commodity: str
    days_added: int  # trading days in the file, not trading days before
    closes_revised: int  # trading days in both whose close changed
    days_kept: int  # stored trading days the file does not give
    days_unchanged: int  # trading days in both with the same close
    first: object = None  # the file's first and last trading day
    last: object = None


@dataclass
class MergePlan:
    rows: pd.DataFrame  # rows to upsert (key: date, commodity, region)
    commodities: list[CommodityMerge] = field(default_factory=list)

    def report(self) -> list[str]:
        return [f"{c.commodity}: {c.days_added} trading days added, {c.closes_revised} closes revised, "
                f"{c.days_unchanged} unchanged, {c.days_kept} stored trading days kept"
                + (f" (file: {c.first} .. {c.last})" if c.first is not None else "")
                for c in self.commodities]


def _trading_closes(df: pd.DataFrame) -> pd.Series:
    """close per (commodity, date) of the trading days (market columns are equal on every region row)."""
    t = df[df["is_trading_day"] == 1]
    return t.drop_duplicates(["commodity", "date"]).set_index(["commodity", "date"])["close"]


def merge_plan(stored: pd.DataFrame, incoming: pd.DataFrame, provenance: dict | None = None, *,
               source: str = "input", table: str = "unified_data", allow_jumps: bool = False) -> MergePlan:
    """What to write so the table holds stored + incoming under the rules above; the union validated.

    stored: the table's rows of the commodities in incoming (any order). incoming: prepare_unified's
    frame; provenance: the dict prepare_unified filled ("given", "file_row"); without it every
    incoming row counts as given.
    """
    provenance = provenance or {}
    given = np.asarray(provenance.get("given", np.ones(len(incoming), dtype=bool)), dtype=bool)
    file_row = np.asarray(provenance.get("file_row", np.zeros(len(incoming), dtype=int)))
    inc = incoming.assign(_given=given, _row=file_row, _from_file=True)
    cols = list(dict.fromkeys([*UNIFIED_COLUMNS, *incoming.columns, *stored.columns]))
    st = stored.reindex(columns=cols).assign(_given=False, _row=0, _from_file=False)
    st["date"] = pd.to_datetime(st["date"]).astype("datetime64[ns]")
    st["is_trading_day"] = st["is_trading_day"].astype("int32")

    for com, regs in inc.groupby("commodity")["region"]:
        have = set(st.loc[st["commodity"] == com, "region"].unique())
        if have and not have & set(regs.unique()):  # a merge matches rows by region: none would match
            raise InputDataError(
                f"{source}: commodity {com!r}: the file's region(s) {', '.join(sorted(map(repr, set(regs))))} are "
                f"not among the regions stored in {table} ({', '.join(sorted(map(repr, have)))}): a merge updates "
                f"rows by date, commodity and region; give the stored regions, or import with --replace")
    stored_keys = pd.MultiIndex.from_frame(st[KEY])
    inc_keys = pd.MultiIndex.from_frame(inc[KEY])
    in_store = inc_keys.isin(stored_keys)
    write_inc = inc[given | ~in_store]  # given rows always; filled days only where nothing is stored
    overridden = stored_keys.isin(pd.MultiIndex.from_frame(write_inc[KEY]))
    union = pd.concat([st[~overridden], write_inc.reindex(columns=st.columns)], ignore_index=True)
    union = union.sort_values(KEY, kind="stable").reset_index(drop=True)

    # Days missing between the stored history and the file: filled from the row before, not trading.
    bridge = []
    for (com, reg), g in union.groupby(["commodity", "region"], sort=False):
        full = pd.date_range(g["date"].iloc[0], g["date"].iloc[-1], freq="D")
        if len(full) == len(g):
            continue
        with pd.option_context("future.no_silent_downcasting", True):
            filled = g.set_index("date").reindex(full).ffill().infer_objects()
        new = filled[~full.isin(g["date"])].rename_axis("date").reset_index()
        new["is_trading_day"] = 0
        new["_given"], new["_row"], new["_from_file"] = False, 0, True
        bridge.append(new)
    if bridge:
        union = pd.concat([union, *bridge], ignore_index=True).sort_values(KEY, kind="stable")
        union = union.reset_index(drop=True)
    union["is_trading_day"] = union["is_trading_day"].astype("int32")

    data_cols = [c for c in cols if not c.startswith("_")]
    where = f"{source} merged with {table}"
    validate_unified(union[data_cols], where)
    trading = union[union["is_trading_day"] == 1]
    for com in sorted(inc["commodity"].unique()):  # the file may be a few days; the history needs MIN_TRADING_DAYS
        check_history(trading.loc[trading["commodity"] == com, "date"].nunique(), com, where)
    if not allow_jumps:
        days = union[union["is_trading_day"] == 1].drop_duplicates(["commodity", "date"])
        days = days.sort_values(["commodity", "date"], kind="stable").reset_index(drop=True)

        def name(j: int) -> str:
            r = days.iloc[j]
            at = f"row {int(r['_row'])}" if r["_given"] else "stored row"
            return f"{at} ({r['date'].date()}, {r['commodity']})"

        check_jumps(days, where, name, check=days["_given"].to_numpy())

    rows = union[union["_from_file"].to_numpy(dtype=bool)][data_cols].reset_index(drop=True)
    return MergePlan(rows, _report(st, inc[given]))


def _report(stored: pd.DataFrame, given: pd.DataFrame) -> list[CommodityMerge]:
    old, new = _trading_closes(stored), _trading_closes(given)
    out = []
    for com in sorted(given["commodity"].unique()):
        o = old[old.index.get_level_values(0) == com].droplevel(0) if len(old) else pd.Series(dtype=float)
        n = new[new.index.get_level_values(0) == com].droplevel(0)
        both = n.index.intersection(o.index)
        revised = int((~np.isclose(n.loc[both].to_numpy(), o.loc[both].to_numpy(), rtol=0, atol=0)).sum())
        out.append(CommodityMerge(com, days_added=int(len(n.index.difference(o.index))), closes_revised=revised,
                                  days_kept=int(len(o.index.difference(n.index))),
                                  days_unchanged=int(len(both) - revised),
                                  first=n.index.min().date() if len(n) else None,
                                  last=n.index.max().date() if len(n) else None))
    return out


def replace_report(stored: pd.DataFrame, incoming: pd.DataFrame) -> list[str]:
    """What --replace does per commodity of the file: stored trading days it removes, days it writes."""
    old, new = _trading_closes(stored) if len(stored) else pd.Series(dtype=float), _trading_closes(incoming)
    out = []
    for com in sorted(incoming["commodity"].unique()):
        o = old[old.index.get_level_values(0) == com].droplevel(0) if len(old) else pd.Series(dtype=float)
        n = new[new.index.get_level_values(0) == com].droplevel(0)
        gone = o.index.difference(n.index)
        span = f" ({gone.min().date()} .. {gone.max().date()})" if len(gone) else ""
        out.append(f"{com}: replaced its {len(o)} stored trading days with the file's {len(n)}; "
                   f"{len(gone)} trading days that the file does not give are removed{span}")
    return out
