"""The patches of Dagster internals install only on the Dagster versions they were tested with."""

import dagster as dg
import pytest
from dagster._core.storage.event_log import SqliteEventLogStorage

from forecast_assets.defs.partitions import SEMIANNUAL_CRON
from forecast_assets.lib import dagster_patches
from forecast_assets.lib.dagster_patches import event_log, partition_lookup

TWPD = dg.TimeWindowPartitionsDefinition


@pytest.fixture
def unpatched(monkeypatch):
    """Dagster's own methods in place for the test (monkeypatch restores whatever was there after)."""
    monkeypatch.setattr(SqliteEventLogStorage, "store_event_batch", event_log._original_store_event_batch)
    monkeypatch.setattr(TWPD, "get_partition_key_for_timestamp", partition_lookup._original)
    monkeypatch.setattr(TWPD, "_iterate_time_windows", partition_lookup._original_iterate)
    monkeypatch.delenv(event_log.BATCH_SIZE_ENV, raising=False)


def test_the_installed_dagster_is_one_the_patches_were_tested_with():
    # Fails after a Dagster upgrade until the equivalence tests pass on it and it is added.
    assert dg.__version__ in dagster_patches.SUPPORTED_DAGSTER_VERSIONS
    dagster_patches.check_version()


def test_another_dagster_version_is_refused_naming_each_patch_and_what_to_do():
    with pytest.raises(dagster_patches.UnsupportedDagsterVersion) as info:
        dagster_patches.check_version("1.14.0")
    msg = str(info.value)
    assert "Dagster 1.14.0 is installed" in msg
    assert "forecast_assets.lib.dagster_patches.event_log" in msg and "store_event_batch" in msg
    assert "forecast_assets.lib.dagster_patches.partition_lookup" in msg
    assert "pytest forecast_assets_tests/lib/" in msg
    assert "SUPPORTED_DAGSTER_VERSIONS in forecast_assets/lib/dagster_patches/__init__.py" in msg


def test_install_on_another_version_fails_before_patching_anything(unpatched, monkeypatch):
    monkeypatch.setattr(dagster_patches.dagster, "__version__", "1.13.99")
    with pytest.raises(dagster_patches.UnsupportedDagsterVersion, match="Dagster 1.13.99"):
        dagster_patches.install(window_crons=[SEMIANNUAL_CRON])
    assert SqliteEventLogStorage.store_event_batch is event_log._original_store_event_batch
    assert TWPD.get_partition_key_for_timestamp is partition_lookup._original
    assert TWPD._iterate_time_windows is partition_lookup._original_iterate


def test_install_patches_both_once_however_often_it_is_called(unpatched):
    for _ in range(2):
        dagster_patches.install(window_crons=[SEMIANNUAL_CRON])
        assert SqliteEventLogStorage.store_event_batch is event_log.store_event_batch
        assert TWPD.get_partition_key_for_timestamp is partition_lookup._lookup
        assert TWPD._iterate_time_windows is partition_lookup._iterate
    assert SEMIANNUAL_CRON in partition_lookup._crons


def test_importing_the_patch_modules_patches_nothing():
    import subprocess
    import sys

    code = ("import dagster as dg; from dagster._core.storage.event_log import SqliteEventLogStorage as S\n"
            "before = (S.store_event_batch, dg.TimeWindowPartitionsDefinition.get_partition_key_for_timestamp)\n"
            "import forecast_assets.defs.partitions, forecast_assets.lib.dagster_patches.event_log, "
            "forecast_assets.lib.dagster_patches.partition_lookup\n"
            "assert before == (S.store_event_batch, dg.TimeWindowPartitionsDefinition.get_partition_key_for_timestamp)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
