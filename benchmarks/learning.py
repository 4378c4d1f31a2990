"""Learning, ours against Stable-Baselines3: final return and learning curves at the same budget.

    python benchmarks/learning.py --quick                       # smoke test: minutes
    python benchmarks/learning.py --preset two-core --jobs 2    # the docs' CPU table (about 3 h on 2 cores)
    python benchmarks/learning.py --preset mujoco-full --jobs 32   # 5 MuJoCo tasks, 10 seeds, big machine
    python benchmarks/learning.py --algos ppo td3 --tasks CartPole-v1 Pendulum-v1 --seeds 5 --jobs 2

Every (column, algorithm, task, seed) is a fresh Python process; ``--jobs`` of them run at once,
each with PyTorch on one thread. Four columns (``--columns`` picks some):

* ``ours``: our defaults (only ``epochs`` is set, from the budget);
* ``ours_tuned``: our tuned settings for the task (``spinup.utils.tuned.tuned_kwargs``, the entries
  ``spinup ALGO --tuned`` applies), ``epochs`` again from the budget;
* ``sb3``: SB3's defaults for the same algorithm (A2C stands in for VPG, TRPO comes from
  sb3-contrib, DDPG and TD3 get N(0, 0.1) Gaussian action noise as in SB3's documentation, because
  their constructors default to none);
* ``sb3_zoo``: SB3 with rl-zoo3's tuned hyperparameters for the task, read at run time from the
  installed rl-zoo3 package (see ``zoo.py``: its ``n_timesteps`` is replaced by our budget, and
  ``n_envs``, ``normalize`` and the rest are applied as rl-zoo3 applies them). A row for which
  rl-zoo3 has no entry says so in the table.

Every column is scored the same way, by one wrapper around the training environment that
records every finished training episode (its return and the step at which it ended; with rl-zoo3's
``n_envs`` > 1 each sub-environment has the wrapper and every episode counts, at the step count of
all sub-environments together): the final
return of a seed is the mean return of the training episodes that ended in the last 10% of the
budget; the table gives the mean over seeds and its standard error (sample standard deviation /
sqrt(seeds)). Training episodes include exploration (Gaussian noise, a stochastic policy,
epsilon-greedy) in both libraries alike. Curves: the same quantity in 40 windows along the budget.

Outputs in ``--out``: ``learning.md``, ``learning.json``, ``curves_<task>.png`` and ``.svg``, and
the raw runs under ``raw/`` (``episodes.csv`` for every run, ``progress.txt`` for ours).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import json
import math
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import zoo  # noqa: E402

ON_POLICY = ("vpg", "trpo", "ppo")
COLUMNS = ("ours", "ours_tuned", "sb3", "sb3_zoo")
LABELS = {"ours": "ours (defaults)", "ours_tuned": "ours (tuned)", "sb3": "SB3 (defaults)",
          "sb3_zoo": "SB3 (rl-zoo3)"}
NO_ZOO = "no rl-zoo3 entry"
OUR_EPOCH = 4000  # steps_per_epoch: the default of every spinup algorithm

# preset -> list of (task, algorithm, budget in env steps); seeds per preset below.
# two-core: budgets meant for about two hours on two cores with --jobs 2 (both libraries, 5 seeds,
# 150 runs). Measured on the project's 2-core machine, the whole table took about three hours: the
# eight off-policy and HalfCheetah rows alone took 94 minutes of wall time, three quarters of it in
# SB3's runs, whose defaults take a gradient step at every environment step. The off-policy budgets are
# short, so our default start_steps=10000 random steps are a large part of them (all but 2000 steps on
# InvertedPendulum).
PRESETS = {
    "quick": dict(seeds=2, runs=[
        ("CartPole-v1", "ppo", 8000),
        ("Pendulum-v1", "td3", 4000),
    ]),
    "two-core": dict(seeds=5, runs=[
        ("CartPole-v1", "vpg", 100_000),
        ("CartPole-v1", "trpo", 100_000),
        ("CartPole-v1", "ppo", 100_000),
        ("CartPole-v1", "dqn", 40_000),
        ("Pendulum-v1", "ddpg", 20_000),
        ("Pendulum-v1", "td3", 20_000),
        ("Pendulum-v1", "sac", 20_000),
        ("InvertedPendulum-v5", "ppo", 52_000),
        ("InvertedPendulum-v5", "trpo", 52_000),
        ("InvertedPendulum-v5", "td3", 12_000),
        ("InvertedPendulum-v5", "sac", 12_000),
        ("Hopper-v5", "ppo", 100_000),
        ("Hopper-v5", "sac", 20_000),
        ("HalfCheetah-v5", "ppo", 100_000),
        ("HalfCheetah-v5", "td3", 20_000),
    ]),
    "mujoco-full": dict(seeds=10, runs=[
        (task, algo, 3_000_000 if algo in ON_POLICY else 1_000_000)
        for task in ("HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Swimmer-v5", "Ant-v5")
        for algo in ("vpg", "trpo", "ppo", "ddpg", "td3", "sac")
    ]),
}


# ---------------------------------------------------------------------------------------------
# Inside a worker: one training run, its finished training episodes written to episodes.csv.
# ---------------------------------------------------------------------------------------------

def run_ours(algo, task, steps, seed, out_dir, kwargs=None):
    """Our ``algo`` for ``steps`` environment steps, with its defaults updated by ``kwargs`` (the
    tuned settings or a sweep's); ``epochs`` comes from the budget and the run's steps_per_epoch."""
    import spinup

    kwargs = dict(kwargs or {})
    epochs = max(1, math.ceil(steps / kwargs.get("steps_per_epoch", OUR_EPOCH)))
    env_fn = lambda: common.make_env(task, record_times=False)  # noqa: E731
    getattr(spinup, algo)(env_fn, seed=seed, epochs=epochs, logger_kwargs=dict(output_dir=out_dir), **kwargs)


def run_sb3(algo, task, steps, seed):
    import numpy as np

    env = common.make_env(task, record_times=False)
    kw = {}
    if algo in ("ddpg", "td3"):
        from stable_baselines3.common.noise import NormalActionNoise

        n = env.action_space.shape[0]
        kw["action_noise"] = NormalActionNoise(np.zeros(n), 0.1 * np.ones(n))
    model = common.sb3_class(algo)("MlpPolicy", env, seed=seed, device="cpu", **kw)
    model.learn(total_timesteps=steps)


def run_sb3_zoo(algo, task, steps, seed):
    """SB3 with rl-zoo3's entry for (algo, task), its n_timesteps replaced by ``steps``."""
    _, entry = zoo.entry_for(algo, task)
    venv, policy, kw = zoo.build(zoo.parse(entry), lambda: common.make_env(task, record_times=False, train=True), seed)
    model = common.sb3_class(algo)(policy, venv, seed=seed, device="cpu", **kw)
    model.learn(total_timesteps=steps)


def worker(spec: dict) -> dict:
    import torch

    torch.set_num_threads(1)  # our algorithms run on one thread; SB3 gets the same
    os.makedirs(spec["dir"], exist_ok=True)
    start = time.time()
    steps = spec["steps"]
    if spec["lib"] in ("ours", "ours_tuned"):
        # our epochs are whole: a budget is rounded up to a multiple of steps_per_epoch (the presets use multiples)
        kwargs = spec.get("kwargs")
        if spec["lib"] == "ours_tuned":
            from spinup.utils.tuned import tuned_kwargs

            kwargs = tuned_kwargs(spec["algo"], spec["task"])
        run_ours(spec["algo"], spec["task"], steps, spec["seed"], spec["dir"], kwargs)
    elif spec["lib"] == "sb3_zoo":
        run_sb3_zoo(spec["algo"], spec["task"], steps, spec["seed"])
    else:
        run_sb3(spec["algo"], spec["task"], steps, spec["seed"])
    episodes = episode_steps(common.PROBE.episodes)
    with open(os.path.join(spec["dir"], "episodes.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "return", "length"])
        w.writerows(episodes)
    # the commit, date and cost of the run: a later --resume or --summarise-only reports them, not its own
    end = time.time()
    wall_s = end - start
    with open(os.path.join(spec["dir"], "run.json"), "w") as f:
        json.dump(dict({k: v for k, v in spec.items() if k != "dir"}, finished=_utc(end), wall_s=wall_s), f)
    return dict(spec, wall_s=wall_s, n_episodes=len(episodes))


# ---------------------------------------------------------------------------------------------
# Aggregation: plain functions, tested on hand-made numbers in tests/test_benchmarks.py.
# ---------------------------------------------------------------------------------------------

def episode_steps(recorded):
    """(step at its end, return, length) of each recorded episode. One training env: the step is the
    sum of the lengths so far; several sub-environments: the step the recorder counted over all of them."""
    episodes, total = [], 0
    for step, ret, length in recorded:
        total += length
        episodes.append((step if step >= 0 else total, ret, length))
    return episodes


def mean_se(values):
    """Mean and standard error (sample standard deviation / sqrt(n)) of a list; SE is nan for n < 2."""
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(values) / n
    if n < 2:
        return m, float("nan")
    var = sum((v - m) ** 2 for v in values) / (n - 1)
    return m, math.sqrt(var / n)


def final_return(episodes, budget, frac=0.1):
    """Mean return of the episodes that ended in the last ``frac`` of ``budget`` steps.

    ``episodes`` is a list of (step at which the episode ended, return). With no episode in that
    window (very long episodes), the last episode that ended stands in; nan when there is none.
    """
    start = budget * (1 - frac)
    last = [r for s, r in episodes if start < s <= budget]
    if last:
        return sum(last) / len(last)
    done = [r for s, r in episodes if s <= budget]
    return done[-1] if done else float("nan")


def curve(episodes, budget, points=40):
    """The curve of one run: at each of ``points`` steps x_k = budget * k / points, the mean return
    of the episodes that ended in (x_{k-1}, x_k]; a window with none repeats the previous value."""
    xs, ys, prev = [], [], float("nan")
    for k in range(1, points + 1):
        lo, hi = budget * (k - 1) / points, budget * k / points
        window = [r for s, r in episodes if lo < s <= hi]
        prev = sum(window) / len(window) if window else prev
        xs.append(hi)
        ys.append(prev)
    return xs, ys


def _utc(t):
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


def run_finished(run_dir):
    """When a finished run ended: from its run.json, else the time its episodes.csv was written."""
    return _run_record(run_dir, "finished", None) or _utc(os.path.getmtime(os.path.join(run_dir, "episodes.csv")))


def _run_record(run_dir, key, missing):
    try:
        with open(os.path.join(run_dir, "run.json")) as f:
            return json.load(f)[key]
    except (OSError, ValueError, KeyError):
        return missing


def run_commit(run_dir):
    """The commit a finished run was made at, from its run.json ('unknown' for runs made without one)."""
    return _run_record(run_dir, "commit", "unknown")


def run_seconds(run_dir):
    """How long a finished run took, in seconds, from its run.json (None for runs made before it was kept)."""
    return _run_record(run_dir, "wall_s", None)


def read_episodes(path):
    with open(path) as f:
        return [(int(row["step"]), float(row["return"])) for row in csv.DictReader(f)]


def summarise(results, budget_of, zoo_entries=None):
    """``results``: list of dicts (lib, algo, task, seed, dir). Returns one row per (task, algo).
    ``zoo_entries``: (task, algo) -> the rl-zoo3 entry used, or None where rl-zoo3 has none."""
    groups = {}
    for r in results:
        if "error" in r:
            continue
        groups.setdefault((r["task"], r["algo"]), {}).setdefault(r["lib"], []).append(r)
    rows = []
    for key in zoo_entries or {}:  # a row whose only column is missing still shows, as "no rl-zoo3 entry"
        groups.setdefault(key, {})
    for (task, algo), libs in groups.items():
        budget = budget_of[(task, algo)]
        row = dict(task=task, algo=algo, budget=budget)
        if zoo_entries is not None and (task, algo) in zoo_entries:
            row["zoo_entry"] = zoo_entries[(task, algo)]
        for lib, runs in libs.items():
            finals, curves = [], []
            for r in sorted(runs, key=lambda r: r["seed"]):
                eps = read_episodes(os.path.join(r["dir"], "episodes.csv"))
                finals.append(final_return(eps, budget))
                curves.append(curve(eps, budget)[1])
            m, se = mean_se([f for f in finals if not math.isnan(f)])
            xs = curve([], budget)[0]
            ys_mean, ys_se = [], []
            for k in range(len(xs)):
                mk, sk = mean_se([c[k] for c in curves if not math.isnan(c[k])])
                ys_mean.append(mk)
                ys_se.append(sk)
            # run time: from this invocation, else from run.json (runs kept by --resume)
            seconds = [t for t in (r.get("wall_s") or run_seconds(r["dir"]) for r in runs) if t]
            row[lib] = dict(mean=m, se=se, seeds=len(finals), finals=finals,
                            curve=dict(steps=xs, mean=ys_mean, se=ys_se),
                            wall_s=sum(seconds), timed_runs=len(seconds))
        rows.append(row)
    return rows


STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"  # how _utc writes a time


def date_span(stamps):
    """The table's date line for runs that finished at ``stamps`` (strings as _utc writes them)."""
    stamps = sorted(stamps)
    return stamps[0] if stamps[0] == stamps[-1] else f"runs finished from {stamps[0]} to {stamps[-1]}"


def merge_tables(rows, info, tables, budget_of, own_runs=True):
    """Add to ``rows`` (this invocation's) the columns that other ``learning.json`` tables measured for
    the same (task, algo) at the same budget, so that columns run at different times form one table.
    A column measured here wins over a merged one, and an earlier table over a later one; a merged row
    outside ``budget_of`` is left out.
    ``info`` gets the union of the commits and the span of the dates (with those of this invocation's
    runs when ``own_runs``)."""
    by_key = {(r["task"], r["algo"]): r for r in rows}
    commits = [c for c in info["commit"].split(", ") if c != "unknown"] if own_runs else []
    stamps = re.findall(STAMP, info["date"]) if own_runs else []
    for table in tables:
        used = False
        for merged in table["rows"]:
            key = (merged["task"], merged["algo"])
            if key not in budget_of:
                continue
            if merged["budget"] != budget_of[key]:
                raise ValueError(f"{key[1]} on {key[0]}: a merged table has budget {merged['budget']:,}, "
                                 f"this one {budget_of[key]:,}; only equal budgets compare")
            row = by_key.setdefault(key, dict(task=key[0], algo=key[1], budget=budget_of[key]))
            for col in COLUMNS:
                if col in merged and col not in row:
                    row[col], used = merged[col], True
            if "zoo_entry" in merged and "zoo_entry" not in row:
                row["zoo_entry"] = merged["zoo_entry"]
        if used:
            commits += table["machine"]["commit"].split(", ")
            stamps += re.findall(STAMP, table["machine"]["date"])
    info["commit"] = ", ".join(sorted(set(commits))) or "unknown"
    if stamps:
        info["date"] = date_span(stamps)
    return list(by_key.values())


def _fmt(d):
    if not d:
        return "-"
    se = "n/a" if math.isnan(d["se"]) else f"{d['se']:.1f}"
    return f"{d['mean']:.1f} ± {se} (n={d['seeds']})"


def _columns(rows):
    """The columns present in any row, in the table's order."""
    return [c for c in COLUMNS if any(c in r or (c == "sb3_zoo" and "zoo_entry" in r) for r in rows)]


def _cell(row, col):
    if col == "sb3_zoo" and row.get("zoo_entry", "") is None:
        return NO_ZOO
    d = _fmt(row.get(col))
    if col == "sb3_zoo" and d != "-" and row.get("zoo_entry") not in (None, row["task"]):
        d += f" ({row['zoo_entry']} entry)"  # an older version of the task's entry
    return d


def _minutes(row, cols):
    """Minutes per seed of each column, in the columns' order ('?' where its runs recorded no time)."""
    def one(d):
        return f"{d['wall_s'] / d['timed_runs'] / 60:.1f}" if d and d.get("timed_runs") else "?"
    return " / ".join(one(row.get(c)) for c in cols)


def _cells(row, cols):
    return [row["task"], row["algo"], f"{row['budget']:,}", *(_cell(row, c) for c in cols), _minutes(row, cols)]


def _header(cols):
    return ["task", "algorithm", "budget (steps)", *(LABELS[c] for c in cols),
            "minutes per seed, " + " / ".join(LABELS[c] for c in cols)]


def markdown(rows, info, args) -> str:
    cols = _columns(rows)
    lines = ["# Learning: final return, ours vs Stable-Baselines3 (mean ± standard error over seeds)", ""]
    lines += common.machine_lines(info)
    lines += [f"- Preset: {args.preset or 'custom'}; jobs in parallel: {args.jobs}", ""]
    lines += ["| " + " | ".join(_header(cols)) + " |", "|---|---|" + "---:|" * (len(cols) + 2)]
    for row in rows:
        lines.append("| " + " | ".join(_cells(row, cols)) + " |")
    lines.append("")
    return "\n".join(lines)


def rst(rows, info) -> str:
    """The machine and the table as reStructuredText (a list-table), for the docs page to include."""
    cols = _columns(rows)
    head = _header(cols)
    lines = [*common.machine_lines(info), "", ".. list-table::", "   :header-rows: 1", "",
             f"   * - {head[0]}", *(f"     - {h}" for h in head[1:])]
    for row in rows:
        cells = ["n/a" if c == "-" else c for c in _cells(row, cols)]
        lines += [f"   * - {cells[0]}"] + [f"     - {c}" for c in cells[1:]]
    return "\n".join(lines) + "\n"


def plot(rows, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    colors = {"ours": "tab:blue", "ours_tuned": "tab:green", "sb3": "tab:orange", "sb3_zoo": "tab:red"}
    labels = LABELS
    paths = []
    for task in dict.fromkeys(r["task"] for r in rows):
        task_rows = [r for r in rows if r["task"] == task]
        fig, axes = plt.subplots(1, len(task_rows), figsize=(3.6 * len(task_rows), 3.0), squeeze=False)
        for ax, row in zip(axes[0], task_rows):
            for lib in COLUMNS:
                if lib not in row:
                    continue
                c = row[lib]["curve"]
                x = np.array(c["steps"]) / 1000
                m = np.array(c["mean"], dtype=float)
                se = np.nan_to_num(np.array(c["se"], dtype=float))
                ax.plot(x, m, color=colors[lib], label=f"{labels[lib]} (n={row[lib]['seeds']})")
                ax.fill_between(x, m - se, m + se, color=colors[lib], alpha=0.25, linewidth=0)
            ax.set_title(f"{row['algo'].upper()}", fontsize=10)
            ax.set_xlabel("environment steps (thousands)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("training episode return", fontsize=8)
        axes[0][0].legend(fontsize=7, loc="best")
        fig.suptitle(f"{task}: mean ± standard error over seeds", fontsize=10)
        fig.tight_layout()
        stem = os.path.join(out_dir, f"curves_{task.replace('/', '_')}")
        fig.savefig(stem + ".png", dpi=90)
        fig.savefig(stem + ".svg")
        plt.close(fig)
        paths.append(stem + ".png")
    return paths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default=None)
    p.add_argument("--quick", action="store_true", help="same as --preset quick: a smoke test")
    p.add_argument("--algos", nargs="+", default=None, help="keep only these algorithms")
    p.add_argument("--tasks", nargs="+", default=None, help="keep only these tasks")
    p.add_argument("--seeds", type=int, default=None, help="seeds per entry (default: the preset's)")
    p.add_argument("--steps", type=int, default=None, help="override every entry's budget")
    p.add_argument("--columns", "--libs", dest="columns", nargs="+", default=list(COLUMNS), choices=COLUMNS,
                   help="which columns to run: ours (defaults), ours_tuned, sb3 (defaults), sb3_zoo (rl-zoo3's "
                        "settings; needs `pip install rl-zoo3`); default: all four")
    p.add_argument("--jobs", type=int, default=os.cpu_count(), help="runs at once (default: one per core)")
    p.add_argument("--nice", type=int, default=0, help="niceness of the worker processes")
    p.add_argument("--out", default=os.path.join(common.REPO, "benchmarks", "results", "learning"))
    p.add_argument("--resume", action="store_true",
                   help="keep the runs already finished in --out (their episodes.csv) and make only the rest")
    p.add_argument("--list", action="store_true", help="print the runs a preset would make, and stop")
    p.add_argument("--summarise-only", action="store_true", help="re-read raw/ and rewrite the outputs")
    p.add_argument("--merge", nargs="+", default=[], metavar="LEARNING_JSON",
                   help="add the columns of these earlier learning.json tables (same budgets) to the outputs")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    if args.quick:
        args.preset = "quick"
    if "sb3_zoo" in args.columns and not zoo.installed() and not args.summarise_only:
        p.error("the sb3_zoo column reads rl-zoo3's settings: `pip install rl-zoo3`, or leave it out with "
                "--columns ours ours_tuned sb3")
    preset = PRESETS[args.preset or "two-core"]
    runs = [(t, a, args.steps or b) for t, a, b in preset["runs"]
            if (not args.algos or a in args.algos) and (not args.tasks or t in args.tasks)]
    n_seeds = args.seeds or preset["seeds"]
    budget_of = {(t, a): b for t, a, b in runs}
    info = common.machine_info()
    print("\n".join(common.machine_lines(info)), flush=True)

    import spinup

    commit = info["commit"] + ("+uncommitted" if info["spinup_modified"] else "")
    specs, zoo_entries = [], {}
    for task, algo, budget in runs:
        if not hasattr(spinup, algo):
            print(f"{algo} is not (yet) exported by spinup: skipped")
            continue
        if "sb3_zoo" in args.columns and zoo.installed():
            found = zoo.entry_for(algo, task)
            zoo_entries[(task, algo)] = found[0] if found else None
        for seed in range(n_seeds):
            for lib in args.columns:
                if lib == "sb3_zoo" and zoo_entries.get((task, algo)) is None:
                    continue  # the table says "no rl-zoo3 entry"
                d = os.path.join(args.out, "raw", task.replace("/", "_"), algo, lib, f"s{seed}")
                specs.append(dict(lib=lib, algo=algo, task=task, seed=seed, steps=budget, dir=d, commit=commit))
                if lib == "sb3_zoo":
                    specs[-1]["zoo_entry"] = zoo_entries[(task, algo)]

    if args.list:
        for s in specs:
            print(f"{s['task']:22s} {s['algo']:5s} {s['lib']:5s} seed {s['seed']}  {s['steps']:>9,} steps")
        total = sum(s["steps"] for s in specs)
        print(f"{len(specs)} runs, {total:,} environment steps in all")
        return

    script = os.path.abspath(__file__)
    results = []
    if args.summarise_only:
        results = [s for s in specs if os.path.exists(os.path.join(s["dir"], "episodes.csv"))]
    else:
        if args.resume:
            results = [s for s in specs if os.path.exists(os.path.join(s["dir"], "episodes.csv"))]
            specs = [s for s in specs if s not in results]
            print(f"{len(results)} runs already finished, kept", flush=True)
        t0 = time.time()
        print(f"{len(specs)} runs, {args.jobs} at a time", flush=True)
        with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {pool.submit(common.run_worker_subprocess, script, s, args.nice): s for s in specs}
            for fut in cf.as_completed(futures):
                s = futures[fut]
                r = fut.result()
                r = dict(s, **r)
                results.append(r)
                msg = r.get("error") or f"{r['wall_s']:.0f} s, {r['n_episodes']} episodes"
                print(f"[{time.time() - t0:6.0f} s] {s['task']} {s['algo']} {s['lib']} seed {s['seed']}: {msg}",
                      flush=True)

    # The tables name the commits and dates of the runs (runs kept by --resume may be older)
    if results:
        info["commit"] = ", ".join(sorted({run_commit(r["dir"]) for r in results}))
        info["spinup_modified"] = False  # a run made from a modified tree says so in its own commit
        info["date"] = date_span(run_finished(r["dir"]) for r in results)
    if args.summarise_only:
        info["loadavg"] = None  # the load now says nothing about the runs
    rows = summarise(results, budget_of, zoo_entries or None)
    if args.merge:
        tables = []
        for path in args.merge:
            with open(path) as f:
                tables.append(json.load(f))
        rows = merge_tables(rows, info, tables, budget_of, own_runs=bool(results))
        info["loadavg"] = None  # the merged runs ran under other loads
    order = {(t, a): i for i, (t, a, _) in enumerate(runs)}
    rows.sort(key=lambda r: order[(r["task"], r["algo"])])
    os.makedirs(args.out, exist_ok=True)
    if not args.summarise_only:
        info["loadavg_end"] = common.machine_info()["loadavg"]
    with open(os.path.join(args.out, "learning.json"), "w") as f:
        json.dump(dict(machine=info, args=vars(args), rows=rows,
                       runs=[{k: v for k, v in r.items() if k != "dir"} for r in results]), f, indent=1)
    md = markdown(rows, info, args)
    with open(os.path.join(args.out, "learning.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "learning.rst"), "w") as f:
        f.write(rst(rows, info))
    plot(rows, args.out)
    print()
    print(md)
    errors = [r for r in results if "error" in r]
    if errors:
        print(f"{len(errors)} runs failed; the first: {errors[0]['error']}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
