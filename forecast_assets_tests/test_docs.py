"""docs/contract.md describes every column the code creates, table by table."""

import re
from pathlib import Path

import pytest

from forecast_assets.storage.schema import METADATA_METRICS, TABLES, columns, day_columns, qualified

CONTRACT = (Path(__file__).resolve().parents[1] / "docs" / "contract.md").read_text()


def _section(table: str) -> str:
    """The text of the contract's section whose heading names the table."""
    parts = re.split(r"^## ", CONTRACT, flags=re.M)
    found = [p for p in parts if p.splitlines()[0].strip().endswith(f"`{qualified(table)}`")]
    assert len(found) == 1, f"docs/contract.md has no section headed `{qualified(table)}`"
    return found[0]


@pytest.mark.parametrize("table", list(TABLES))
def test_every_column_of_every_table_is_in_the_contract(table):
    text = _section(table)
    days = set(day_columns(14))
    metrics = {f"{m}_{h}d" for m in METADATA_METRICS for h in (1, 7, 14)}
    for c in columns(table, 14):
        if c in days:
            assert "day_1 ... day_H" in text, f"{table}: the day columns are not described"
        elif c in metrics:
            assert "`<metric>_<h>d`" in text and f"`{c.rsplit('_', 1)[0]}`" in text, f"{table}: {c} not described"
        else:
            assert re.search(rf"(^|[\s`|,]){re.escape(c)}([\s`|,]|$)", text, re.M), \
                f"docs/contract.md does not describe {table}.{c}"


def test_no_reference_to_documents_outside_the_repository():
    root = Path(__file__).resolve().parents[1]
    for path in [*root.joinpath("forecast_assets").rglob("*.py"), root / "README.md", root / "BENCHMARKS.md",
                 root / "deploy" / "README.md"]:
        text = path.read_text()
        assert "contracts.md" not in text and "findings.md" not in text, path
