"""Run benchmarks by name and print their figures as ``name: value [unit]`` lines.

They use the same configuration as the app (``TRELLIS_DATABASE_URL``,
``TRELLIS_REDIS_URL``); with none set they run on SQLite in a temporary folder.
Ratios against a baseline measured in the same run are the figures to quote:
these machines are noisy, absolute times are not comparable between runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from . import exports, formula, imports, list_records, permissions, reports, rollup, schema, tenants

BENCHMARKS = {"list": list_records.run, "schema": schema.run, "tenants": tenants.run, "formula": formula.run,
              "rollup": rollup.run, "exports": exports.run, "reports": reports.run, "import": imports.run,
              "permissions": permissions.run}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the benchmark object")
    parser.add_argument("--repeat", type=int, default=30, help="timed repetitions per figure")
    parser.add_argument("--tenants", type=int, default=1000, help="tenants for the many-tenants figure (tenants)")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    with tempfile.TemporaryDirectory(prefix="trellis-bench-") as data_dir:
        os.environ.setdefault("TRELLIS_DATA_DIR", data_dir)
        for name in args.names or list(BENCHMARKS):
            options = {"tenants": args.tenants} if name == "tenants" else {}
            for figure, value, unit in BENCHMARKS[name](rows=args.rows, repeat=args.repeat, **options):
                shown = str(value) if isinstance(value, int) else f"{value:.3f}"
                print(f"{figure}: {shown}{' ' + unit if unit else ''}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
