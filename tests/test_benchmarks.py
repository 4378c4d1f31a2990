"""The benchmark scripts: speed.py measures and aggregates on a tiny budget; learning.py's statistics."""

import importlib.util
import json
import math
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


def _load(name):
    sys.path.insert(0, BENCH)
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", os.path.join(BENCH, f"{name}.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(BENCH)


speed = _load("speed")
learning = _load("learning")
common = sys.modules["common"]


def test_steady_rate_leaves_out_warmup_and_test_episodes():
    # 11 steps, one per second, from t=0 to t=10; a test episode spans t=4.5..6.5 (2 s)
    times = [float(t) for t in range(11)]
    spans = [[4.5, 6.5], [20.0, 21.0]]  # the second lies outside the window
    # warm-up of 2 steps: the window runs from step 2 (t=1) to step 11 (t=10), 9 steps in 9 - 2 = 7 s
    assert common.steady_rate(times, spans, 2) == pytest.approx(9 / 7)
    with pytest.raises(ValueError):
        common.steady_rate(times, [], 11)


def test_speed_aggregate_median_ratio_and_ceiling():
    runs = [dict(lib="ours", algo="ppo", env="E", rate=r) for r in (100.0, 300.0, 200.0)]
    runs += [dict(lib="sb3", algo="ppo", env="E", rate=r) for r in (50.0, 100.0)]
    runs += [dict(lib="random", algo="random", env="E", rate=1000.0), dict(error="boom", lib="sb3", algo="ppo")]
    (row,) = speed.aggregate(runs)
    assert row["ours"]["median"] == 200.0 and row["ours"]["min"] == 100.0 and row["ours"]["max"] == 300.0
    assert row["ours"]["spread"] == pytest.approx(1.0)
    assert row["sb3"]["median"] == 75.0
    assert row["ratio"] == pytest.approx(200 / 75)
    assert row["ours_frac"] == pytest.approx(0.2) and row["sb3_frac"] == pytest.approx(0.075)


def test_speed_image_dqn_has_a_jax_twin():
    assert "dqn-image_jax" in speed.ALL_ALGOS
    assert speed.TASKS["dqn-image_jax"] == speed.TASKS["dqn-image"]
    assert speed.base_algo("dqn-image_jax") == "dqn_jax" and speed.variant("dqn-image_jax") == "dqn-image"
    assert speed.base_algo("ppo-default") == "ppo" and speed.family("dqn-image_jax") == "dqn"


def test_speed_update_floor_counts_and_column():
    # SAC per sample, in multiply-adds: a Q pass (23-256-256-1) is 71680, a policy pass
    # (17-256-256-12) 72960; backward to the input skips the first layer (5888 and 4352) when
    # the input is data. Six Q forwards, two Q backwards to weights and hidden inputs, two Q
    # backwards to the action; two policy forwards and one backward.
    q, pi = 71680, 72960
    macs = 6 * q + 2 * (q + q - 5888) + 2 * q + 2 * pi + (pi + pi - 4352)
    flops = sum(2 * m * k * n * c for (m, k, n), c in speed.update_matmuls("sac").items())
    assert flops == 2 * 100 * macs
    runs = [dict(lib="ours", algo="sac_jax", env="HalfCheetah-v5", rate=100.0, round=1),
            dict(lib="ours", algo="dqn-image_jax", env="SpinupBench/CatchImage-v0", rate=20.0, round=1),
            dict(lib="floor", algo="floor", env="-", round=1, floor=dict(sac=dict(floor_ms=5.0), dqn=dict(floor_ms=0.3))),
            dict(lib="floor", algo="floor", env="-", round=2, floor=dict(sac=dict(floor_ms=4.0), dqn=dict(floor_ms=0.2)))]
    sac_row, image_row = speed.aggregate(runs)
    assert sac_row["floor_ms"] == 4.0 and sac_row["ours_ms"] == pytest.approx(10.0)  # the least floor of the rounds
    assert image_row["floor_ms"] is None  # convolutions: no matmul floor


def test_speed_end_to_end_tiny_budget(tmp_path):
    """One algorithm, a few hundred steps, one repeat, without SB3: real subprocesses, real files."""
    out = tmp_path / "speed"
    speed.main(["--algos", "ppo", "--env", "CartPole-v1", "--epoch-steps", "200", "--steps", "400",
                "--repeats", "1", "--warmup-runs", "0", "--no-sb3", "--ceiling-steps", "2000", "--out", str(out)])
    data = json.loads((out / "speed.json").read_text())
    (row,) = data["table"]
    assert row["algo"] == "ppo" and row["env"] == "CartPole-v1"
    assert row["ours"]["median"] > 0 and row["random"]["median"] > row["ours"]["median"]
    assert row["sb3"] is None and row["ratio"] is None
    ours_run = next(r for r in data["runs"] if r["lib"] == "ours")
    assert ours_run["steps_seen"] == 400 and ours_run["torch_threads"] == 1
    assert data["machine"]["nproc"] >= 1 and data["machine"]["versions"]["torch"]
    md = (out / "speed.md").read_text()
    assert "| ppo | CartPole-v1 |" in md and "cores" in md


def test_mean_and_standard_error_by_hand():
    # values 1, 2, 3, 6: mean 3, sample variance (4 + 1 + 0 + 9) / 3 = 14/3, SE = sqrt(14/3 / 4)
    m, se = learning.mean_se([1.0, 2.0, 3.0, 6.0])
    assert m == 3.0 and se == pytest.approx(math.sqrt(14 / 12))
    m, se = learning.mean_se([5.0])
    assert m == 5.0 and math.isnan(se)


def test_final_return_and_curve_by_hand():
    # (step at which the episode ended, return); budget 100: the last 10% is steps 91..100
    eps = [(10, 1.0), (50, 2.0), (92, 4.0), (100, 6.0), (120, 100.0)]
    assert learning.final_return(eps, 100) == 5.0
    # no episode ended in the last 10%: the last one that ended stands in
    assert learning.final_return([(10, 1.0), (50, 2.0)], 100) == 2.0
    xs, ys = learning.curve(eps, 100, points=4)
    assert xs == [25.0, 50.0, 75.0, 100.0]
    assert ys == [1.0, 2.0, 2.0, 5.0]  # (75] has no episode: the previous value repeats


def test_summarise_reads_runs_and_averages_seeds(tmp_path):
    results = []
    for lib, finals in (("ours", [10.0, 20.0, 30.0]), ("sb3", [5.0, 5.0, 5.0])):
        for seed, f in enumerate(finals):
            d = tmp_path / lib / str(seed)
            d.mkdir(parents=True)
            (d / "episodes.csv").write_text(f"step,return,length\n50,0.0,50\n100,{f},50\n")
            results.append(dict(lib=lib, algo="ppo", task="T", seed=seed, dir=str(d)))
    (row,) = learning.summarise(results, {("T", "ppo"): 100})
    assert row["ours"]["mean"] == 20.0 and row["ours"]["se"] == pytest.approx(10 / math.sqrt(3))
    assert row["sb3"]["mean"] == 5.0 and row["sb3"]["se"] == 0.0
    md = learning.markdown([row], common.machine_info(), type("A", (), dict(preset=None, jobs=1))())
    assert "| T | ppo | 100 | 20.0 ± 5.8 (n=3) | 5.0 ± 0.0 (n=3) | +15.0 | ? / ? |" in md


def test_summarise_only_names_the_commit_the_runs_were_made_at(tmp_path):
    """Tables rewritten later (--summarise-only, --resume) report the runs' commit and dates, not their own."""
    for lib in ("ours", "sb3"):
        d = tmp_path / "raw" / "CartPole-v1" / "ppo" / lib / "s0"
        d.mkdir(parents=True)
        (d / "episodes.csv").write_text("step,return,length\n50,10.0,50\n100,20.0,50\n")
        finished = "2026-01-0%d 10:00 UTC" % (1 if lib == "ours" else 2)
        wall_s = 90.0 if lib == "ours" else 300.0
        (d / "run.json").write_text(json.dumps(dict(lib=lib, algo="ppo", commit="abc1234", finished=finished,
                                                    wall_s=wall_s)))
    learning.main(["--tasks", "CartPole-v1", "--algos", "ppo", "--seeds", "1", "--steps", "100",
                   "--summarise-only", "--out", str(tmp_path)])
    md = (tmp_path / "learning.md").read_text()
    assert "- Commit: abc1234\n" in md
    # the dates are the runs', and the load average of the rewrite is not reported as theirs
    assert "- Date: runs finished from 2026-01-01 10:00 UTC to 2026-01-02 10:00 UTC\n" in md
    assert "Load average" not in md
    assert md.rstrip().endswith("| +0.0 | 1.5 / 5.0 |")  # minutes per seed, from each run.json
    assert learning.run_commit(str(tmp_path / "nowhere")) == "unknown"
