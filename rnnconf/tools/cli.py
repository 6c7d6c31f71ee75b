"""``python -m rnnconf``: the tools that drive lanes and read the suite's shapes.json documents.

  lanes {run,list,table,record} ...                           one environment per lane (python -m rnnconf lanes -h)
  docs [--check] | docs record REPORT_DIR OUT.json            the documentation's generated tables
  arguments {extract,merge} ...                               the layers' documented arguments (python -m rnnconf arguments -h)
  merge OUT_DIR RUN.json [RUN.json ...] [--label NAME=PATH]   runs side by side (matrix.html/json)
  diff OLD.json NEW.json [--json OUT] [--deviation-factor F]  what changed; exit 1 on a regression
  merge-shards OUT_DIR SHARD.json [...]                       one run from its CI shards

Exit status: 0 done (diff: no regression), 1 diff found a regression, 2 usage error (bad
arguments, an unreadable file, an unknown schema, shards that do not belong together).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnnconf.tools.matrix import diff, load, merge, shards


def _labels(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise load.RunError(f"--label {pair!r}: expected NAME=PATH")
        out[path] = name
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rnnconf", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="{lanes,docs,arguments,merge,diff,merge-shards}")
    sub.add_parser("lanes", help="install, run, tabulate and record lanes (python -m rnnconf lanes -h)",
                   add_help=False)
    sub.add_parser("docs", help="rewrite the documentation's generated tables (python -m rnnconf docs -h)",
                   add_help=False)
    sub.add_parser("arguments", help="read the layers' documented arguments (python -m rnnconf arguments -h)",
                   add_help=False)

    m = sub.add_parser("merge", help="put several runs side by side in OUT_DIR/matrix.html and matrix.json",
                       description=merge.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    m.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    m.add_argument("runs", nargs="+", metavar="RUN.json")
    m.add_argument("--label", action="append", default=[], metavar="NAME=PATH",
                   help="show the run read from PATH as NAME (repeatable)")

    d = sub.add_parser("diff", help="list what changed between two runs; exit 1 on a regression",
                       description=diff.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("old", metavar="OLD.json")
    d.add_argument("new", metavar="NEW.json")
    d.add_argument("--json", type=Path, metavar="OUT", help="also write the changes as JSON to OUT")
    d.add_argument("--deviation-factor", type=float, default=diff.FACTOR, metavar="F",
                   help=f"a deviation from the oracle that grows by more than F (while above {diff.FLOOR:g}) "
                        f"is a regression (default {diff.FACTOR:g})")

    s = sub.add_parser("merge-shards", help="join the shards of one run into OUT_DIR/shapes.json and shapes.html",
                       description=shards.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    s.add_argument("shards", nargs="+", metavar="SHARD.json")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lanes"]:  # its own parser: arguments after -- go to pytest
        from rnnconf.tools import lanes

        return lanes.main(argv[1:])
    if argv[:1] == ["docs"]:
        from rnnconf.tools import docs

        return docs.main(argv[1:])
    if argv[:1] == ["arguments"]:
        from rnnconf.tools import arguments

        return arguments.main(argv[1:])
    args = parser().parse_args(argv)
    try:
        if args.command == "merge":
            runs = load.load(args.runs, _labels(args.label))
            for path in merge.write(args.out_dir, runs):
                print(path)
            return 0
        if args.command == "diff":
            if args.deviation_factor <= 1:
                raise load.RunError("--deviation-factor must be greater than 1")
            old, new = load.load([args.old, args.new])
            result = diff.compare(old, new, args.deviation_factor)
            print(diff.text(result), end="")
            if args.json:
                diff.write_json(args.json, result)
            return 1 if result.regressions else 0
        for path in shards.write(args.out_dir, [load.read(p) for p in args.shards], args.shards):
            print(path)
        return 0
    except load.RunError as exc:
        print(f"python -m rnnconf {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output folder that cannot be written
        print(f"python -m rnnconf {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
