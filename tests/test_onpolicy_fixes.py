"""VPG, TRPO and PPO: what they log and save after an update, and the spaces they must honour.

Each test runs an algorithm for one short epoch and checks a logged or saved number against an
independent computation from the data the epoch collected and the networks it left behind.
"""

import copy
import importlib

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from gymnasium import spaces

from spinup.algos.pytorch.ppo import core
from spinup.algos.pytorch.trpo import core as trpo_core

ON_POLICY = ["vpg", "trpo", "ppo"]


def module_of(algo):
    return importlib.import_module(f"spinup.algos.pytorch.{algo}.{algo}")


def run_capturing(algo, env_fn, monkeypatch, out_dir, **kw):
    """Run ``algo`` for one epoch; return (the epoch's data, the networks before and after the update)."""
    module = module_of(algo)
    buffer_cls = getattr(module, algo.upper() + "Buffer")
    original_get = buffer_cls.get
    seen = {}

    def recording_get(self, ac):
        seen["before"] = copy.deepcopy(ac)
        data = original_get(self, ac)
        seen["data"] = {k: v.clone() for k, v in data.items()}
        return data

    monkeypatch.setattr(buffer_cls, "get", recording_get)

    def make_ac(obs_space, act_space, **ac_kwargs):
        seen["ac"] = module.core.MLPActorCritic(obs_space, act_space, **ac_kwargs)
        return seen["ac"]

    settings = dict(steps_per_epoch=200, epochs=1, train_v_iters=2, logger_kwargs=dict(output_dir=str(out_dir)))
    settings.update(kw)
    getattr(module, algo)(env_fn, actor_critic=make_ac, **settings)
    return seen["data"], seen["before"], seen["ac"]


def surrogate_loss(algo, ac, data, clip_ratio=0.2):
    """Each algorithm's policy loss, written out from its docs page."""
    with torch.no_grad():
        _, logp = ac.pi(data["obs"], data["act"])
        if algo == "vpg":
            return -(logp * data["adv"]).mean().item()
        ratio = torch.exp(logp - data["logp"])
        if algo == "trpo":
            return -(ratio * data["adv"]).mean().item()
        clipped = torch.clamp(ratio, 1 - clip_ratio, 1 + clip_ratio) * data["adv"]
        return -torch.min(ratio * data["adv"], clipped).mean().item()


@pytest.mark.parametrize("algo", ON_POLICY)
def test_kl_and_delta_loss_pi_describe_the_policy_after_its_last_step(algo, monkeypatch, tmp_path):
    """KL and DeltaLossPi compare the policy the update leaves with the one that collected the data.

    PPO with one policy step shows the difference most plainly: measured before that step, KL is 0.
    """
    kw = dict(train_pi_iters=1, target_kl=1e9) if algo == "ppo" else {}
    data, before, after = run_capturing(algo, lambda: gym.make("CartPole-v1"), monkeypatch, tmp_path, **kw)
    row = pd.read_table(tmp_path / "progress.txt").iloc[-1]
    with torch.no_grad():
        pi_old, _ = before.pi(data["obs"])
        pi_new, logp_new = after.pi(data["obs"], data["act"])
        if algo == "trpo":
            kl = trpo_core.mean_kl(pi_old, pi_new).item()  # the exact KL the line search bounds
        else:
            kl = (data["logp"] - logp_new).mean().item()  # the sample estimate VPG and PPO log
    assert kl != 0.0
    assert row["KL"] == pytest.approx(kl, rel=1e-4, abs=1e-7)
    delta = surrogate_loss(algo, after, data) - surrogate_loss(algo, before, data)
    assert row["DeltaLossPi"] == pytest.approx(delta, rel=1e-4, abs=1e-7)


def test_ppo_stop_iter_counts_the_policy_steps_taken(monkeypatch, tmp_path):
    run_capturing("ppo", lambda: gym.make("CartPole-v1"), monkeypatch, tmp_path / "all", train_pi_iters=3,
                  target_kl=1e9)
    assert pd.read_table(tmp_path / "all" / "progress.txt")["StopIter"].tolist() == [3]
    # A KL limit that the first measurement (0, before any step) cannot pass but any step does:
    # the check before step 2 stops the loop after one step.
    run_capturing("ppo", lambda: gym.make("CartPole-v1"), monkeypatch, tmp_path / "one", train_pi_iters=3,
                  target_kl=1e-12, pi_lr=1e-2)
    assert pd.read_table(tmp_path / "one" / "progress.txt")["StopIter"].tolist() == [1]


@pytest.mark.parametrize("algo", ON_POLICY)
def test_saved_model_holds_the_epochs_update(algo, monkeypatch, tmp_path):
    _, before, after = run_capturing(algo, lambda: gym.make("CartPole-v1"), monkeypatch, tmp_path)
    saved = torch.load(tmp_path / "pyt_save" / "model.pt", weights_only=True)["state_dict"]
    final = after.state_dict()
    for name, value in saved.items():
        torch.testing.assert_close(value, final[name], rtol=0, atol=0)
    assert any(not torch.equal(saved[n], v) for n, v in before.state_dict().items())


class ShiftedActionsEnv(gym.Env):
    """Actions are Discrete(3, start=1), i.e. {1, 2, 3}; anything else is refused as the env would."""

    def __init__(self):
        self.observation_space = spaces.Box(-1, 1, (2,), np.float32)
        self.action_space = spaces.Discrete(3, start=1)
        self.seen, self.t = [], 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        self.seen.append(int(action))
        self.t += 1
        return np.full(2, 0.1 * action, np.float32), float(action == 3), self.t >= 20, False, {}


@pytest.mark.parametrize("algo", ON_POLICY)
def test_discrete_start_is_honoured_and_buffer_keeps_indices(algo, monkeypatch, tmp_path):
    env = ShiftedActionsEnv()
    data, _, _ = run_capturing(algo, lambda: env, monkeypatch, tmp_path, steps_per_epoch=100)
    assert set(env.seen) == {1, 2, 3}
    # The policy's own indices 0..n-1 are what its log-probabilities are of.
    assert set(data["act"].long().tolist()) == {0, 1, 2}
    assert torch.isfinite(data["logp"]).all()


def test_to_env_action_adds_the_start_of_a_discrete_space():
    assert core.to_env_action(np.array(0), spaces.Discrete(3, start=1)) == 1
    assert core.to_env_action(np.array(2), spaces.Discrete(3, start=-1)) == 1
    assert core.to_env_action(np.array(2), spaces.Discrete(3)) == 2


def saved_run(tmp_path, env_fn, algo="vpg", steps=60):
    getattr(module_of(algo), algo)(env_fn, steps_per_epoch=steps, epochs=1, train_v_iters=1,
                                   logger_kwargs=dict(output_dir=str(tmp_path)))
    from spinup.utils.test_policy import load_policy_and_env

    return load_policy_and_env


def test_test_policy_clips_gaussian_samples_as_training_does(tmp_path):
    load_policy_and_env = saved_run(tmp_path, lambda: gym.make("MountainCarContinuous-v0"))
    env, get_action = load_policy_and_env(str(tmp_path))
    low, high = env.action_space.low, env.action_space.high
    o, _ = env.reset(seed=0)
    torch.manual_seed(0)
    actions = np.array([get_action(o) for _ in range(300)])
    # log_std starts at -0.5 (std 0.6), so some of 300 samples fall outside [-1, 1] before clipping.
    assert actions.min() >= low.min() and actions.max() <= high.max()
    assert actions.min() == low.min() or actions.max() == high.max()


def test_test_policy_honours_discrete_start(tmp_path):
    load_policy_and_env = saved_run(tmp_path, ShiftedActionsEnv)
    _, get_action = load_policy_and_env(str(tmp_path))
    torch.manual_seed(0)
    actions = {int(get_action(np.zeros(2, np.float32))) for _ in range(200)}
    assert actions == {1, 2, 3}


class ByteObservationsEnv(gym.Env):
    """uint8 observations in 0..255, as ALE RAM or a flattened image gives them."""

    def __init__(self):
        self.observation_space = spaces.Box(0, 255, (4,), np.uint8)
        self.action_space = spaces.Discrete(2)
        self.t = 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([255, 0, 128, 7], np.uint8), {}

    def step(self, action):
        self.t += 1
        return np.array([255, self.t, 128, 7], np.uint8), 1.0, self.t >= 10, False, {}


def test_uint8_observations_reach_the_networks_scaled_to_unit_interval():
    torch.manual_seed(0)
    ac = core.MLPActorCritic(spaces.Box(0, 255, (4,), np.uint8), spaces.Box(-1, 1, (2,)))
    raw = torch.tensor([[255.0, 0.0, 128.0, 7.0]])
    with torch.no_grad():
        torch.testing.assert_close(ac.v(raw), ac.v.v_net(raw / 255).squeeze(-1))
        torch.testing.assert_close(ac.pi(raw)[0].mean, ac.pi.mu_net(raw / 255))
    torch.testing.assert_close(torch.as_tensor(ac.act(raw, deterministic=True)), ac.pi.mu_net(raw / 255).detach())
    categorical = core.MLPActorCritic(spaces.Box(0, 255, (4,), np.uint8), spaces.Discrete(3))
    with torch.no_grad():
        torch.testing.assert_close(categorical.pi(raw)[0].logits,
                                   torch.log_softmax(categorical.pi.logits_net(raw / 255), -1))
    # Float observations are left as they are.
    plain = core.MLPActorCritic(spaces.Box(-1, 1, (4,)), spaces.Discrete(3))
    with torch.no_grad():
        torch.testing.assert_close(plain.v(raw), plain.v.v_net(raw).squeeze(-1))


def test_uint8_scaling_survives_saving_and_test_policy(tmp_path):
    load_policy_and_env = saved_run(tmp_path, ByteObservationsEnv, algo="ppo")
    from spinup.utils.serialization_utils import rebuild_model

    ac = rebuild_model(torch.load(tmp_path / "pyt_save" / "model.pt", weights_only=True))
    raw = torch.tensor([[255.0, 3.0, 128.0, 7.0]])
    with torch.no_grad():
        torch.testing.assert_close(ac.v(raw), ac.v.v_net(raw / 255).squeeze(-1))
        logits = ac.pi.logits_net(raw / 255)[0]
    _, get_action = load_policy_and_env(str(tmp_path), deterministic=True)
    assert int(get_action(raw[0].numpy().astype(np.uint8))) == int(logits.argmax())


def test_trpo_failed_line_search_is_logged_apart_from_a_late_success(monkeypatch, tmp_path):
    """BacktrackIters is the index of the accepted try, or backtrack_iters when none was accepted."""
    trpo_module = module_of("trpo")
    solve = trpo_module.core.conjugate_gradient
    # Pointing the step uphill makes every step size raise the loss, so the line search must fail.
    monkeypatch.setattr(trpo_module.core, "conjugate_gradient", lambda *args, **kw: -solve(*args, **kw))
    _, before, after = run_capturing("trpo", lambda: gym.make("CartPole-v1"), monkeypatch, tmp_path,
                                     backtrack_iters=4)
    row = pd.read_table(tmp_path / "progress.txt").iloc[-1]
    assert row["BacktrackIters"] == 4
    assert row["KL"] == 0 and row["DeltaLossPi"] == 0
    for name, value in before.pi.state_dict().items():
        torch.testing.assert_close(after.pi.state_dict()[name], value, rtol=0, atol=0)
