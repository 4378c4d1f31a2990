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
    # ending at step 9 (t=8): 7 steps in 7 - 2 = 5 s
    assert common.steady_rate(times, spans, 2, 9) == pytest.approx(7 / 5)
    with pytest.raises(ValueError):
        common.steady_rate(times, [], 5, 5)


def test_on_policy_window_is_whole_epochs_after_the_first_update():
    class Args:
        env = steps = epoch_steps = None
        device = "cpu"

    for entry in speed.plan(["ppo", "ppo_jax", "trpo_jax"], Args()):
        e = entry["epoch_steps"]
        # the first step after the first update, to the first step after the last update but one
        assert (entry["warmup"], entry["end"], entry["steps"]) == (e + 1, 3 * e + 1, 4 * e)
        assert (entry["end"] - entry["warmup"]) % e == 0


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
    """One algorithm, three short epochs (the least an on-policy run takes), one repeat, without SB3."""
    out = tmp_path / "speed"
    speed.main(["--algos", "ppo", "--env", "CartPole-v1", "--epoch-steps", "200", "--steps", "600",
                "--repeats", "1", "--warmup-runs", "0", "--no-sb3", "--ceiling-steps", "2000", "--out", str(out)])
    data = json.loads((out / "speed.json").read_text())
    (row,) = data["table"]
    assert row["algo"] == "ppo" and row["env"] == "CartPole-v1"
    assert row["ours"]["median"] > 0 and row["random"]["median"] > row["ours"]["median"]
    assert row["sb3"] is None and row["ratio"] is None
    ours_run = next(r for r in data["runs"] if r["lib"] == "ours")
    assert ours_run["steps_seen"] == 600 and ours_run["torch_threads"] == 1
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
    assert "| T | ppo | 100 | 20.0 ± 5.8 (n=3) | 5.0 ± 0.0 (n=3) | ? / ? |" in md
    assert "| ours (defaults) | SB3 (defaults) |" in md  # only the columns that ran


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
                   "--summarise-only", "--columns", "ours", "sb3", "--out", str(tmp_path)])
    md = (tmp_path / "learning.md").read_text()
    assert "- Commit: abc1234\n" in md
    # the dates are the runs', and the load average of the rewrite is not reported as theirs
    assert "- Date: runs finished from 2026-01-01 10:00 UTC to 2026-01-02 10:00 UTC\n" in md
    assert "Load average" not in md
    assert md.rstrip().endswith("| 20.0 ± n/a (n=1) | 1.5 / 5.0 |")  # minutes per seed, from each run.json
    assert learning.run_commit(str(tmp_path / "nowhere")) == "unknown"


def test_merge_joins_columns_run_at_different_times_into_one_table(tmp_path):
    """--merge adds the columns of earlier learning.json tables at the same budget; its own runs win."""
    def stats(mean):
        return dict(mean=mean, se=1.0, seeds=5, finals=[mean] * 5,
                    curve=dict(steps=[50.0, 100.0], mean=[0.0, mean], se=[0.0, 1.0]))

    old = dict(machine=dict(commit="aaa1111", date="runs finished from 2026-01-01 10:00 UTC to 2026-01-01 12:00 UTC"),
               rows=[dict(task="CartPole-v1", algo="ppo", budget=100, ours=stats(30.0), sb3=stats(40.0)),
                     dict(task="CartPole-v1", algo="vpg", budget=100, ours=stats(1.0))])  # not in this table
    tuned = dict(machine=dict(commit="bbb2222", date="2026-01-03 09:00 UTC"),
                 rows=[dict(task="CartPole-v1", algo="ppo", budget=100, ours=stats(-1.0), ours_tuned=stats(50.0),
                            sb3_zoo=stats(45.0), zoo_entry="CartPole-v1")])
    paths = []
    for name, table in (("old", old), ("tuned", tuned)):
        paths.append(str(tmp_path / f"{name}.json"))
        with open(paths[-1], "w") as f:
            json.dump(table, f)
    out = tmp_path / "out"
    learning.main(["--tasks", "CartPole-v1", "--algos", "ppo", "--seeds", "1", "--steps", "100",
                   "--summarise-only", "--out", str(out), "--merge", *paths])
    md = (out / "learning.md").read_text()
    assert "- Commit: aaa1111, bbb2222\n" in md
    assert "- Date: runs finished from 2026-01-01 10:00 UTC to 2026-01-03 09:00 UTC\n" in md
    # the first table's "ours" is kept; the second's is not used for that column
    assert "| CartPole-v1 | ppo | 100 | 30.0 ± 1.0 (n=5) | 50.0 ± 1.0 (n=5) | 40.0 ± 1.0 (n=5) | 45.0 ± 1.0 (n=5) |" in md
    assert "vpg" not in md
    assert (out / "curves_CartPole-v1.png").exists()
    with pytest.raises(ValueError, match="only equal budgets compare"):
        learning.main(["--tasks", "CartPole-v1", "--algos", "ppo", "--seeds", "1", "--steps", "200",
                       "--summarise-only", "--out", str(out), "--merge", *paths])


# ---------------------------------------------------------------------------------------------
# The tuned column and the rl-zoo3 column of the learning table
# ---------------------------------------------------------------------------------------------

zoo = sys.modules["zoo"]
needs_zoo = pytest.mark.skipif(importlib.util.find_spec("rl_zoo3") is None, reason="rl-zoo3 is not installed")
needs_sb3 = pytest.mark.skipif(importlib.util.find_spec("stable_baselines3") is None, reason="SB3 is not installed")


def test_tuned_column_runs_ours_with_the_tuned_settings(tmp_path):
    from spinup.utils.tuned import tuned_kwargs

    learning.main(["--tasks", "CartPole-v1", "--algos", "vpg", "--seeds", "1", "--steps", "400",
                   "--columns", "ours_tuned", "--jobs", "1", "--out", str(tmp_path)])
    run = tmp_path / "raw" / "CartPole-v1" / "vpg" / "ours_tuned" / "s0"
    config = json.loads((run / "config.json").read_text())
    for key, value in tuned_kwargs("vpg", "CartPole-v1").items():
        assert config[key] == value
    md = (tmp_path / "learning.md").read_text()
    assert "| ours (tuned) |" in md and "SB3" not in md.split("\n| task")[1].split("\n")[0]


def test_zoo_parse_applies_rl_zoo3_rules_by_hand():
    parsed = zoo.parse({"n_envs": 4, "n_timesteps": 1e6, "policy": "MlpPolicy", "gamma": 0.98,
                        "normalize": "dict(norm_obs=True, norm_reward=False)", "learning_rate": "lin_0.001",
                        "clip_range": 0.2, "train_freq": [1, "episode"], "noise_type": "normal", "noise_std": 0.1,
                        "policy_kwargs": "dict(net_arch=[400, 300], activation_fn=nn.ReLU)", "frame_stack": 4})
    assert parsed["n_envs"] == 4 and parsed["frame_stack"] == 4 and parsed["noise"] == ("normal", 0.1)
    assert parsed["normalize"] == dict(norm_obs=True, norm_reward=False, gamma=0.98)  # the entry's gamma
    model = parsed["model"]
    assert "n_timesteps" not in model and "n_envs" not in model and "normalize" not in model
    assert model["learning_rate"](1.0) == pytest.approx(1e-3) and model["learning_rate"](0.25) == pytest.approx(2.5e-4)
    assert model["clip_range"] == 0.2 and model["train_freq"] == (1, "episode")
    import torch.nn as nn

    assert model["policy_kwargs"] == dict(net_arch=[400, 300], activation_fn=nn.ReLU)
    assert zoo.parse({"normalize": True})["normalize"] == {}
    assert zoo.parse({"normalize": False})["normalize"] is None


def test_zoo_entry_lookup_by_id_then_older_version():
    entries = {"default": {}, "Hopper-v3": {"a": 3}, "Hopper-v4": {"a": 4}, "Hopper-v9": {"a": 9}, "CartPole-v1": {}}
    assert zoo.find_entry(entries, "Hopper-v5") == ("Hopper-v4", {"a": 4})
    assert zoo.find_entry(entries, "CartPole-v1") == ("CartPole-v1", {})
    assert zoo.find_entry(entries, "Pendulum-v1") is None  # "default" is not a tuned entry
    assert zoo.find_entry(entries, "default") is None


@needs_zoo
def test_zoo_reads_the_installed_rl_zoo3_files():
    key, entry = zoo.entry_for("ppo", "CartPole-v1")
    assert key == "CartPole-v1" and entry["n_envs"] == 8
    parsed = zoo.parse(entry)
    assert parsed["n_envs"] == 8 and isinstance(parsed["model"]["learning_rate"], zoo.LinearSchedule)
    assert zoo.entry_for("ppo", "Hopper-v5")[0] == "Hopper-v4"
    assert zoo.parse(zoo.entry_for("ppo", "Hopper-v5")[1])["normalize"] is not None
    assert zoo.parse(zoo.entry_for("td3", "Pendulum-v1")[1])["noise"] == ("normal", 0.1)
    assert zoo.entry_for("td3", "InvertedPendulum-v5") is None
    for task, algo, _ in learning.PRESETS["two-core"]["runs"]:
        found = zoo.entry_for(algo, task)
        if found:
            zoo.parse(found[1])  # every entry the table uses parses


@needs_sb3
def test_zoo_vector_env_records_every_sub_env_episode(monkeypatch):
    probe = common.Probe()
    monkeypatch.setattr(common, "PROBE", probe)
    parsed = zoo.parse({"n_envs": 3, "normalize": True, "policy": "MlpPolicy", "n_steps": 8})
    venv, policy, kwargs = zoo.build(parsed, lambda: common.make_env("CartPole-v1", record_times=False, train=True), 0)
    assert policy == "MlpPolicy" and kwargs == {"n_steps": 8} and venv.num_envs == 3
    venv.seed(0)
    venv.reset()
    for _ in range(200):
        venv.step([venv.action_space.sample() for _ in range(3)])
    assert probe.n_train == 3 and probe.train_steps == 600
    eps = learning.episode_steps(probe.episodes)
    assert len(eps) > 3 and all(0 < s <= 600 for s, _, _ in eps)
    assert [s for s, _, _ in eps] == sorted(s for s, _, _ in eps)
    # raw rewards, below VecNormalize: CartPole pays 1 per step
    assert all(ret == length for _, ret, length in eps)


def test_episode_steps_of_one_env_are_the_sums_of_lengths():
    assert learning.episode_steps([(-1, 5.0, 10), (-1, 7.0, 20)]) == [(10, 5.0, 10), (30, 7.0, 20)]
    assert learning.episode_steps([(12, 5.0, 10), (15, 7.0, 9)]) == [(12, 5.0, 10), (15, 7.0, 9)]
