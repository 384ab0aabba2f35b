"""`python -m forecast_assets.explorer` (`make explore`): serve the explorer on 127.0.0.1.

It has no login, like `make ui`: it listens on this machine only (FORECAST_EXPLORER_PORT, default 8050).
"""

from __future__ import annotations

import argparse
import sys

from forecast_assets.config import ConfigError, Settings
from forecast_assets.storage.base import StorageError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forecast_assets.explorer", description=__doc__)
    parser.add_argument("--port", type=int, help="default FORECAST_EXPLORER_PORT (8050)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        from forecast_assets.explorer.app import make_app, serve
        from forecast_assets.explorer.queries import open_store

        app = make_app(open_store(settings))
    except (ConfigError, StorageError) as exc:
        print(f"forecast explorer: {exc}", file=sys.stderr)
        return 2
    port = args.port or settings.explorer_port
    print(f"forecast explorer on http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    serve(app, port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
