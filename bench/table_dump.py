"""A fingerprint of every stored table and model file, to show a change left the rows bit for bit as they were.

    python bench/table_dump.py [DB] [ARTIFACT_DIR] > dump.txt     # then: diff before.txt after.txt

One line per table: row count and a SHA-256 of its rows sorted, every column but
the wall-clock ones (created_at, generation_timestamp, evaluated_at, created_by);
one line per model file: its SHA-256. Model file paths in trained_models are
compared relative to the artifact folder, so two checkouts can be compared. Floats are hashed by their bytes, so a
change in the last bit shows.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

VOLATILE = {"created_at", "created_by", "generation_timestamp", "evaluated_at"}


def dump(db: Path, artifacts: Path | None) -> list[str]:
    root = str(artifacts.resolve()) if artifacts is not None else None
    con = duckdb.connect(str(db), read_only=True)
    out = []
    tables = con.execute("SELECT table_catalog, table_schema, table_name FROM information_schema.tables "
                         "WHERE table_type = 'BASE TABLE' ORDER BY ALL").fetchall()
    for cat, schema, name in tables:
        cols = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = ? "
            "AND table_name = ? ORDER BY ordinal_position", [cat, schema, name]).fetchall() if c not in VOLATILE]
        q = ", ".join(f'"{c}"' for c in cols)
        arrow = con.sql(f'SELECT {q} FROM "{cat}"."{schema}"."{name}" ORDER BY ALL').to_arrow_table()
        h = hashlib.sha256()
        for col in arrow.columns:
            col = col.combine_chunks()
            h.update(np.asarray(col.is_null()).tobytes())
            t = col.type
            if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
                h.update(np.asarray(col.fill_null(False if pa.types.is_boolean(t) else 0)).tobytes())
            elif pa.types.is_date(t) or pa.types.is_timestamp(t):
                h.update(np.asarray(col.cast(pa.int64() if pa.types.is_timestamp(t) else pa.int32()).fill_null(0)).tobytes())
            else:
                # Model file paths are absolute: compare them relative to the artifact folder.
                vals = [v.replace(root, "<artifacts>") if root and isinstance(v, str) else v for v in col.to_pylist()]
                h.update("\x00".join(map(str, vals)).encode())
        out.append(f"{schema}.{name}\trows={arrow.num_rows}\tcolumns={len(cols)}\t{h.hexdigest()}")
    con.close()
    if artifacts is not None and artifacts.exists():
        for f in sorted(artifacts.rglob("*.json")):
            out.append(f"artifact {f.relative_to(artifacts)}\t{hashlib.sha256(f.read_bytes()).hexdigest()}")
    return out


if __name__ == "__main__":
    db = Path(sys.argv[1] if len(sys.argv) > 1 else "data/forecast.duckdb")
    art = Path(sys.argv[2]) if len(sys.argv) > 2 else db.parent / "artifacts"
    print("\n".join(dump(db, art)))
