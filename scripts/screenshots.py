"""Screenshots of every dashboard page, desktop and phone width, from a warehouse.

    .venv/bin/python scripts/screenshots.py --db nbaprops.duckdb --date 2024-04-12 --out shots/

The warehouse must have a published snapshot (any daily run publishes one). Uses
Debian's Chromium (/usr/bin/chromium, or NBAPROPS_CHROMIUM) headless via Playwright.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.browser import serve, walk_dashboard

from nbaprops.api.app import create_app
from nbaprops.core.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--date", required=True, help="the slate shown on the Tonight page")
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument(
        "--small", action="store_true", help="quantise to 128 colours (about 3x smaller)"
    )
    args = parser.parse_args()
    if not args.db.exists():
        print(f"error: no warehouse at {args.db}", file=sys.stderr)
        return 1
    with serve(create_app(Settings(db=args.db))) as base:
        walks = walk_dashboard(base, args.date, args.out)
    if args.small:
        from PIL import Image

        for walk in walks:
            for shot in walk.screenshots:
                image = Image.open(shot).convert("RGB")
                image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
                    shot, optimize=True
                )
    for walk in walks:
        print(
            json.dumps(
                {
                    "viewport": walk.viewport,
                    "slate_rows": walk.slate_rows,
                    "charts": len(walk.chart_descs),
                    "player": walk.player_url.split("/ui/")[-1],
                    "player_rows": walk.player_rows,
                    "overflow_px": walk.overflow,
                    "failed_requests": walk.failed_requests,
                    "console_errors": walk.console_errors,
                    "screenshots": [str(p) for p in walk.screenshots],
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
