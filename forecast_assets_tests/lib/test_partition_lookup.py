"""The window lookup answers exactly as Dagster's own method."""

from datetime import datetime, timedelta, timezone

import dagster as dg
import numpy as np
import pytest

from forecast_assets.defs.partitions import SEMIANNUAL_CRON, TIMEZONE
from forecast_assets.lib.dagster_patches import partition_lookup


@pytest.fixture(autouse=True, scope="module")
def installed():
    """Dagster's methods answer through the patch here, as in the code location."""
    partition_lookup.install(SEMIANNUAL_CRON)


def test_same_keys_as_dagster_for_every_hour_around_and_every_boundary():
    pdef = dg.TimeWindowPartitionsDefinition(start="2018-01-01", fmt="%Y-%m-%d", cron_schedule=SEMIANNUAL_CRON,
                                             timezone=TIMEZONE, end_offset=1)
    starts, _, _ = partition_lookup._known(pdef)
    rng = np.random.default_rng(0)
    lo, hi = datetime(2016, 6, 1, tzinfo=timezone.utc).timestamp(), datetime(2101, 1, 1, tzinfo=timezone.utc).timestamp()
    stamps = list(rng.uniform(lo, hi, 3000)) + [s + d for s in starts[:40] for d in (-1, 0, 1, 3600)]
    stamps += [datetime(2018, 1, 1, tzinfo=timezone.utc).timestamp() + k * 86400.0 for k in range(0, 3000, 7)]
    assert dg.TimeWindowPartitionsDefinition.get_partition_key_for_timestamp is partition_lookup._lookup
    for ts in stamps:
        for end_closed in (False, True):
            assert (partition_lookup._lookup(pdef, ts, end_closed)
                    == partition_lookup._original(pdef, ts, end_closed)), (ts, end_closed)


def test_other_crons_are_dagsters():
    monthly = dg.MonthlyPartitionsDefinition(start_date="2018-01-01")
    ts = (datetime(2021, 3, 5, tzinfo=timezone.utc) + timedelta(hours=5)).timestamp()
    assert monthly.get_partition_key_for_timestamp(ts) == partition_lookup._original(monthly, ts) == "2021-03-01"


def test_same_windows_as_dagster_from_any_start():
    from itertools import islice

    pdef = dg.TimeWindowPartitionsDefinition(start="2018-01-01", fmt="%Y-%m-%d", cron_schedule=SEMIANNUAL_CRON,
                                             timezone=TIMEZONE, end_offset=1)
    starts, wins, _ = partition_lookup._known(pdef)
    rng = np.random.default_rng(1)
    stamps = list(rng.uniform(starts[0] - 1e8, starts[-1] + 1e8, 400)) + [s + d for s in starts[::9] for d in (-1, 0, 1)]
    stamps += [starts[-1], starts[-1] + 1]
    for ts in stamps:
        assert (list(islice(partition_lookup._iterate(pdef, ts), 4))
                == list(islice(partition_lookup._original_iterate(pdef, ts), 4))), ts
    # and what the mapping asks of it
    assert pdef.start_time_for_partition_key("2021-07-01") == wins[7].start
    assert pdef.get_partition_keys_in_range(dg.PartitionKeyRange("2019-01-01", "2020-07-01")) == [
        "2019-01-01", "2019-07-01", "2020-01-01", "2020-07-01"]
