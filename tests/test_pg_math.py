"""The two simplest-policy-gradient examples: reward-to-go math, a short run, and a learning check."""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

PG_MATH = Path(__file__).resolve().parents[1] / "spinup" / "examples" / "pytorch" / "pg_math"


def load(name):
    # The file names start with a digit, so they cannot be imported with a plain import statement.
    spec = importlib.util.spec_from_file_location(f"pg_math_{name}", PG_MATH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reward_to_go_hand_computed():
    rtg = load("2_rtg_pg").reward_to_go
    # 1+2+3+4=10, 2+3+4=9, 3+4=7, 4
    np.testing.assert_allclose(rtg([1.0, 2.0, 3.0, 4.0]), [10.0, 9.0, 7.0, 4.0])
    np.testing.assert_allclose(rtg([5.0]), [5.0])
    assert len(rtg([])) == 0


def test_reward_to_go_first_entry_is_episode_return():
    rews = np.random.default_rng(0).normal(size=37)
    rtg = load("2_rtg_pg").reward_to_go(rews)
    assert rtg[0] == pytest.approx(rews.sum())
    np.testing.assert_allclose(rtg[:-1] - rtg[1:], rews[:-1])


@pytest.mark.parametrize("name", ["1_simple_pg", "2_rtg_pg"])
def test_short_run_returns_finite_numbers(name):
    rets = load(name).train(epochs=3, batch_size=400, seed=1)
    assert len(rets) == 3
    assert all(math.isfinite(r) and r > 0 for r in rets)


def test_same_seed_same_result():
    module = load("1_simple_pg")
    assert module.train(epochs=2, batch_size=300, seed=3) == module.train(epochs=2, batch_size=300, seed=3)


def test_continuous_action_env_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="Discrete"):
        load("1_simple_pg").train(env_name="Pendulum-v1", epochs=1)


def test_the_two_files_differ_only_in_the_weights():
    one = (PG_MATH / "1_simple_pg.py").read_text()
    two = (PG_MATH / "2_rtg_pg.py").read_text()
    assert "batch_weights += [ep_ret] * ep_len" in one
    assert "batch_weights += list(reward_to_go(ep_rews))" in two
    # from the policy on down the two scripts are the same, but for the weights and the banner
    def tail(s):
        skip = ("batch_weights +=", "formulation", "# each step", "# every step")
        return [ln for ln in s[s.index("# [make_policy]"):].splitlines() if not any(k in ln for k in skip)]

    assert tail(one) == tail(two)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["1_simple_pg", "2_rtg_pg"])
def test_learns_cartpole_in_its_default_run(name):
    # The default run is 50 epochs of 5000 steps; the last five epochs must average at least 195.
    rets = load(name).train(seed=0)
    assert np.mean(rets[-5:]) >= 195, rets
