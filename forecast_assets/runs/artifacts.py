"""Where fitted models of 1 MB or more live: files named by fitted_model_s3_path.

The embedded default keeps them in a local folder (FORECAST_ARTIFACT_DIR).
A crash never leaves a row pointing at a wrong or half-written model: files
are written to a temporary name and renamed, and named by their content (the
model's fingerprint), so retraining a window writes a new file next to the one
the stored row still names; the old file and any temporary left by a killed
run are removed only after the new row is committed (remove_superseded).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

INLINE_LIMIT = 1_000_000  # bytes; docs/contract.md: JSON inline below 1 MB


class ArtifactError(RuntimeError):
    pass


class ArtifactDirNotWritableError(ArtifactError):
    """FORECAST_ARTIFACT_DIR cannot be written: checked before a training run writes anything."""


def check_writable(root: Path) -> None:
    """Refuse, naming the folder and what to do, when model files could not be written under root.

    os.access asks the kernel, so it also sees what chmod does not stop for root (chattr +i, a
    read-only mount); a folder not made yet is judged by its nearest existing parent."""
    root = Path(root)
    existing = next((p for p in [root, *root.parents] if p.exists()), None)
    if existing is not None and existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        return
    what = "is not a folder" if existing is not None and not existing.is_dir() else "cannot be written"
    where = f"{existing}" if existing == root else f"{existing} (where it would be created)"
    raise ArtifactDirNotWritableError(
        f"the model artifact folder {root} cannot be used: {where} {what}; nothing was written. Make it "
        f"writable (chmod u+w, or chattr -i where it is immutable) or set FORECAST_ARTIFACT_DIR to a writable folder")


def artifact_path(root: Path, version: str, commodity: str, model_name: str, window_start, fingerprint: str) -> Path:
    return Path(root) / version / commodity / model_name / f"{window_start}-{fingerprint}.json"


def write_text(path: Path, text: str) -> str:
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.stem}-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return str(path)


def remove_superseded(path: Path, window_start) -> list[Path]:
    """Delete the window's other model files and temporaries next to `path`, once no row names them.

    Call after the row naming `path` is committed. One writer per window at a
    time (the forecast_db pool) is assumed: another writer's temporary would go too.
    """
    path = Path(path).resolve()
    gone = []
    for pattern in (f"{window_start}.json", f"{window_start}-*.json", f".tmp-{window_start}-*"):
        for f in path.parent.glob(pattern):
            if f != path:
                f.unlink(missing_ok=True)
                gone.append(f)
    return gone


def read_text(uri: str) -> str:
    if uri.startswith("file://"):
        uri = uri[len("file://"):]
    if "://" in uri or uri.startswith("dbfs:"):
        raise ArtifactError(f"model artifact {uri!r} is not on a local path; this backend reads local files only")
    try:
        return Path(uri).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArtifactError(f"model artifact {uri!r} named in trained_models does not exist") from None
    except UnicodeDecodeError as exc:  # e.g. a pickle put where a JSON model belongs: never decoded further
        raise ArtifactError(f"model artifact {uri!r} is not UTF-8 JSON text "
                            f"({exc.reason} at byte {exc.start})") from None
