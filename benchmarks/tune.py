"""A small sweep of our settings on one (algorithm, task) row of the learning table, scored as the table is.

    python benchmarks/tune.py --algo vpg --task CartPole-v1 --steps 100000 \\
        --grid '{"pi_lr": 0.003}' '{"pi_lr": 0.01}' --seeds 100 101

Each setting (a JSON object of keyword arguments of the algorithm) runs once per seed, one run at a
time, each in a fresh process through ``learning.py``'s worker, so that a run here is the same run
the table would make with those arguments. The score of a run is the table's final return (mean
return of the training episodes that ended in the last 10% of the budget). Use seeds other than the
table's (0 to 4), so that the table does not measure the seeds the values were chosen on.

Appends one JSON line per run to ``--out``/``<algo>_<task>.jsonl`` (each run's files go under ``raw/``) and prints a markdown table of
every run in that file, for the notes in ``benchmarks/results/tuning``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import learning  # noqa: E402


def table(records) -> str:
    lines = ["| setting | seed | final return | minutes |", "|---|---:|---:|---:|"]
    for r in records:
        lines.append(f"| `{json.dumps(r['kwargs'], sort_keys=True)}` | {r['seed']} | {r['final']:.1f} "
                     f"| {r['wall_s'] / 60:.1f} |")
    by_setting = {}
    for r in records:
        by_setting.setdefault(json.dumps(r["kwargs"], sort_keys=True), []).append(r["final"])
    lines += ["", "| setting | mean over seeds | seeds |", "|---|---:|---:|"]
    for k, v in by_setting.items():
        lines.append(f"| `{k}` | {sum(v) / len(v):.1f} | {len(v)} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--algo", required=True)
    p.add_argument("--task", required=True)
    p.add_argument("--steps", type=int, required=True, help="the budget of the row, in environment steps")
    p.add_argument("--grid", nargs="+", required=True, help="settings, each a JSON object of keyword arguments")
    p.add_argument("--seeds", type=int, nargs="+", default=[100, 101])
    p.add_argument("--out", default=os.path.join(common.REPO, "benchmarks", "results", "tuning"),
                   help="the log of runs goes here, each run's files under raw/")
    args = p.parse_args(argv)

    settings = [json.loads(g) for g in args.grid]
    os.makedirs(args.out, exist_ok=True)
    log = os.path.join(args.out, f"{args.algo}_{args.task}.jsonl")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learning.py")
    for kwargs in settings:
        for seed in args.seeds:
            name = "_".join(f"{k}{v}" for k, v in sorted(kwargs.items())) or "defaults"
            d = os.path.join(args.out, "raw", args.task, args.algo, name, f"s{seed}")
            spec = dict(lib="ours", algo=args.algo, task=args.task, seed=seed, steps=args.steps, dir=d,
                        kwargs=kwargs)
            r = common.run_worker_subprocess(script, spec)
            if "error" in r:
                print(f"{kwargs} seed {seed}: {r['error']}", file=sys.stderr)
                continue
            final = learning.final_return(learning.read_episodes(os.path.join(d, "episodes.csv")), args.steps)
            rec = dict(algo=args.algo, task=args.task, steps=args.steps, kwargs=kwargs, seed=seed,
                       final=final, wall_s=r["wall_s"], finished=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
            with open(log, "a") as f:
                f.write(json.dumps(rec) + "\n")
            print(f"{json.dumps(kwargs)} seed {seed}: final return {final:.1f} ({r['wall_s'] / 60:.1f} min)",
                  flush=True)
    with open(log) as f:
        records = [json.loads(line) for line in f if line.strip()]
    records = [r for r in records if not math.isnan(r["final"])]
    print(table(records))


if __name__ == "__main__":
    main()
