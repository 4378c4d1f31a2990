"""``spinup exercise NUMBER [--file PATH | --solution] [--quick]``: check an exercise, PASS or FAIL.

Also ``python -m spinup.exercises ...``. Exit status: 0 PASS, 1 FAIL, 2 bad input.
"""

from __future__ import annotations

import argparse
import os.path as osp
import sys

from spinup.utils.checks import UserError

EPILOG = """\
The usual workflow: copy an exercise file (`spinup exercise 1.1 --where` prints its path), fill in
the parts marked YOUR CODE HERE, then check your copy:

    spinup exercise 1.1 --file my_exercise1_1.py

Exit status: 0 PASS, 1 FAIL, 2 bad input."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spinup exercise",
        description="Check your answer to a Spinning Up exercise and say PASS, or FAIL with what is wrong.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("number", nargs="?", help="the exercise, e.g. 1.1 (see --list)")
    parser.add_argument("--list", action="store_true", help="list the exercises and how long each check takes")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--file", "-f", metavar="PATH", help="your exercise file (default: the untouched starter file)")
    source.add_argument("--solution", action="store_true", help="check the reference solution instead")
    parser.add_argument("--quick", action="store_true", help="a faster, partial check, where the exercise has one")
    parser.add_argument("--where", action="store_true", help="print the path of the exercise file (to copy it)")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    from spinup.exercises import checkers

    if args.list:
        print(list_exercises())
        return 0
    if args.number is None:
        parser.error("which exercise? Give its number, e.g. `spinup exercise 1.1`; --list lists them.")
    try:
        if args.where:
            exercise = checkers.get_exercise(args.number)
            print(osp.join(checkers.HERE, exercise.solution if args.solution else exercise.starter))
            return 0
        return checkers.run(args.number, path=args.file, solution=args.solution, quick=args.quick)
    except UserError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2


def list_exercises() -> str:
    from spinup.exercises.checkers import EXERCISES

    lines = ["Exercises (check one with: spinup exercise NUMBER --file YOUR_COPY.py):", ""]
    for e in EXERCISES.values():
        time = e.duration + (f"; --quick: {e.quick_duration}" if e.quick_duration else "")
        lines.append(f"  {e.number}  {e.title:<38} {time}")
        lines.append(f"       {e.starter}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
