"""The differential tester: random rulebooks scored by the product and by an independent interpreter.

    python scripts/difftest.py [--seed S] [--pairs N] [--no-minimise]

Draws N (rulebook, case file) pairs from seed S (tests/randomrules.py), scores each with the
product in this process and with tests/ruleinterp.py (direct enumeration), and prints the
rate and every disagreement, shrunk to the smallest rulebook and case file that still
disagree (tests/differential.py). Exit status 1 when any pair disagrees.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import differential


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=10_000, help="pairs between progress lines (and seeds: seed, seed+1, ...)")
    parser.add_argument("--no-minimise", action="store_true", help="print disagreements as found")
    parser.add_argument("--replay", metavar="LINE", help="check one pair given as the one-line JSON of a report")
    args = parser.parse_args()
    if args.replay:
        pair = json.loads(args.replay)
        found = differential.check(pair["book"], pair["cases"], pair["records"])
        print(found or "agree (or the rulebook is refused)")
        if found and not args.no_minimise:
            print(differential.minimise(differential.Disagreement(pair["book"], pair["cases"], pair["records"], found)).report())
        return 1 if found else 0
    totals = differential.Tally()
    chunk = 0
    while totals.pairs < args.pairs:
        size = min(args.chunk, args.pairs - totals.pairs)
        # each chunk has its own seed, so a disagreement can be run again from its chunk alone
        tally = differential.run(args.seed + chunk, size, progress=lambda d: print(d.report(), flush=True),
                                 minimise_found=not args.no_minimise)
        for name in ("pairs", "books", "refused", "errors", "fired", "seconds"):
            setattr(totals, name, getattr(totals, name) + getattr(tally, name))
        totals.disagreements += tally.disagreements
        totals.refusals += tally.refusals
        print(f"seed {args.seed + chunk}: {tally.pairs} pairs ({tally.books} rulebooks, {tally.refused} pairs on refused "
              f"rulebooks, {tally.errors} failing on the data on both sides, {tally.fired} rule lines agreed on), "
              f"{len(tally.disagreements)} disagreement(s), {tally.pairs / tally.seconds:.1f} pairs/s; "
              f"total {totals.pairs} pairs, {len(totals.disagreements)} disagreement(s), "
              f"{totals.pairs / totals.seconds:.1f} pairs/s", flush=True)
        chunk += 1
    print("why the product refused rulebooks (a refusal is no disagreement, but a new one may be a regression):")
    for reason, count in totals.refusals.most_common():
        print(f"  {count:8d}  {reason}")
    return 1 if totals.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
