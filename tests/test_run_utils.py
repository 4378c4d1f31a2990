"""ExperimentGrid: variant names and counts; logger kwargs layout."""

import os.path as osp

import pytest
import torch

from spinup.utils.checks import UserError
from spinup.utils.run_utils import ExperimentGrid, setup_logger_kwargs


def test_setup_logger_kwargs_layout(tmp_path):
    kw = setup_logger_kwargs("exp", seed=3, data_dir=str(tmp_path))
    assert kw == dict(output_dir=osp.join(str(tmp_path), "exp", "exp_s3"), exp_name="exp")
    kw = setup_logger_kwargs("exp", seed=3, data_dir=str(tmp_path), datestamp=True)
    parent, child = osp.split(osp.relpath(kw["output_dir"], str(tmp_path)))
    assert parent.endswith("_exp") and len(parent) == len("YYYY-MM-DD_exp")
    assert child.endswith("-exp_s3") and len(child) == len("YYYY-MM-DD_HH-MM-SS-exp_s3")
    assert setup_logger_kwargs("e", data_dir="/d")["output_dir"] == "/d/e"


def make_grid():
    eg = ExperimentGrid(name="g")
    eg.add("env_name", "CartPole-v1", "", True)
    eg.add("seed", [0, 10, 20])
    eg.add("epochs", 5)
    eg.add("ac_kwargs:hidden_sizes", [(32,), (64, 64)], "hid")
    eg.add("ac_kwargs:activation", [torch.nn.Tanh, torch.nn.ReLU])
    eg.add("use_x", [True, False], "x")
    return eg


def test_variant_count_and_nesting():
    variants = make_grid().variants()
    assert len(variants) == 3 * 2 * 2 * 2
    v = variants[0]
    assert set(v) == {"env_name", "seed", "epochs", "ac_kwargs", "use_x"}
    assert set(v["ac_kwargs"]) == {"hidden_sizes", "activation"}


def test_variant_names():
    eg = make_grid()
    names = {eg.variant_name(v) for v in eg.variants()}
    # seeds don't make names; single-valued keys appear only with in_name; bools appear as a flag
    assert len(names) == 8
    assert "g_cartpole-v1_hid64-64_ac_-actrelu_x" in names
    assert "g_cartpole-v1_hid32_ac_-acttanh" in names


def test_bad_grid_input():
    eg = ExperimentGrid("g")
    eg.add("a", [1])
    with pytest.raises(UserError):
        eg.add("a", [2])
    with pytest.raises(UserError):
        eg.add("b", [])


def test_bench_ppo_cartpole_sweep_runs_every_variant(tmp_path, monkeypatch):
    """The example sweep, shrunk: every variant and seed ends with its own progress.txt."""
    from spinup.examples.pytorch import bench_ppo_cartpole

    monkeypatch.setattr(bench_ppo_cartpole.ExperimentGrid, "add", _shrinking_add(bench_ppo_cartpole.ExperimentGrid.add))
    out = bench_ppo_cartpole.main(["--num_runs", "1", "--epochs", "1", "--data_dir", str(tmp_path)])
    assert len(out) == 4
    names = sorted(osp.basename(osp.dirname(d)) for d in out)
    assert names == ["bench_ppo_cartpole_cartpole-v1_hid32_clip0-1", "bench_ppo_cartpole_cartpole-v1_hid32_clip0-3",
                     "bench_ppo_cartpole_cartpole-v1_hid64-64_clip0-1", "bench_ppo_cartpole_cartpole-v1_hid64-64_clip0-3"]
    for d in out:
        assert osp.exists(osp.join(d, "progress.txt"))


def _shrinking_add(add):
    # 4000 steps per epoch would make this test slow; 200 shows the same plumbing.
    def shrunk(self, key, vals, *args, **kwargs):
        return add(self, key, 200 if key == "steps_per_epoch" else vals, *args, **kwargs)

    return shrunk
