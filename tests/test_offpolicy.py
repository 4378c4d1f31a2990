"""DDPG, TD3 and SAC: their math against independent computations, their buffers, and short runs."""

import math
import subprocess
import sys
from copy import deepcopy
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions.normal import Normal

import spinup
import spinup.algos.pytorch.ddpg.core as ddpg_core
import spinup.algos.pytorch.ddpg.ddpg as ddpg_module
import spinup.algos.pytorch.sac.core as sac_core
import spinup.algos.pytorch.sac.sac as sac_module
import spinup.algos.pytorch.td3.core as td3_core
import spinup.algos.pytorch.td3.td3 as td3_module
from spinup.utils.checks import UserError
from spinup.utils.test_policy import load_policy_and_env, run_policy

MODULES = {"ddpg": ddpg_module, "td3": td3_module, "sac": sac_module}
CORES = {"ddpg": ddpg_core, "td3": td3_core, "sac": sac_core}
TINY = dict(hidden_sizes=(16, 16))


# ----------------------------------------------------------------------------------------------
# SAC's squashed Gaussian
# ----------------------------------------------------------------------------------------------


def test_squashed_gaussian_logp_matches_change_of_variables():
    torch.manual_seed(0)
    act_dim, act_limit = 3, 2.0
    mu = torch.randn(act_dim, dtype=torch.float64)
    std = torch.rand(act_dim, dtype=torch.float64) + 0.3
    u = torch.randn(act_dim, dtype=torch.float64) * 2

    # The density of a = act_limit * tanh(u) by the change-of-variables formula, with the
    # Jacobian computed numerically by autograd rather than by the formula under test.
    jac = torch.autograd.functional.jacobian(lambda x: act_limit * torch.tanh(x), u)
    expected = Normal(mu, std).log_prob(u).sum() - torch.log(torch.abs(torch.det(jac)))

    logp = sac_core.squashed_gaussian_logp(Normal(mu, std), u)
    # The documented convention: the log-prob of tanh(u), before scaling by act_limit.
    assert logp.item() == pytest.approx(expected.item() + act_dim * math.log(act_limit), abs=1e-9)


def test_squashed_gaussian_logp_is_finite_where_tanh_saturates():
    u = torch.tensor([[25.0, -30.0]])
    logp = sac_core.squashed_gaussian_logp(Normal(torch.zeros(2), torch.ones(2)), u)
    naive = Normal(torch.zeros(2), torch.ones(2)).log_prob(u).sum(-1) - torch.log(1 - torch.tanh(u) ** 2).sum(
        -1
    )
    assert torch.isfinite(logp).all() and not torch.isfinite(naive).all()
    # log(1 - tanh(u)^2) -> log 4 - 2|u| for large |u|
    expected = (
        Normal(0.0, 1.0).log_prob(u).sum() - (2 * math.log(2) - 2 * 25.0) - (2 * math.log(2) - 2 * 30.0)
    )
    assert logp.item() == pytest.approx(expected.item(), rel=1e-6)


def test_sac_actor_logp_and_deterministic_action():
    torch.manual_seed(1)
    obs_space = gym.spaces.Box(-1, 1, (4,))
    act_space = gym.spaces.Box(-2, 2, (2,))
    ac = sac_core.MLPActorCritic(obs_space, act_space, **TINY)
    obs = torch.randn(5, 4)
    a, logp = ac.pi(obs)
    assert a.shape == (5, 2) and logp.shape == (5,)
    assert (a.abs() < 2).all()
    # The deterministic action is the squashed mean, and act() returns it as numpy.
    net_out = ac.pi.net(obs)
    mean_action = 2 * torch.tanh(ac.pi.mu_layer(net_out))
    assert np.allclose(ac.act(obs, deterministic=True), mean_action.detach().numpy(), atol=1e-6)
    # Gradients flow from the sampled action and its log-prob back into the policy.
    (a.sum() + logp.sum()).backward()
    assert ac.pi.mu_layer.weight.grad is not None and ac.pi.log_std_layer.weight.grad.abs().sum() > 0


# ----------------------------------------------------------------------------------------------
# Bellman backups on a fixed batch
# ----------------------------------------------------------------------------------------------

BATCH = dict(
    obs=torch.zeros(3, 2),
    act=torch.zeros(3, 1),
    rew=torch.tensor([1.0, -0.5, 2.0]),
    obs2=torch.tensor([[0.1, 0.2], [0.3, -0.4], [1.0, 0.0]]),
    done=torch.tensor([0.0, 1.0, 0.0]),
)


def test_ddpg_target():
    ac_targ = SimpleNamespace(
        pi=lambda o: o[:, :1] * 2,  # mu_targ(s') = 2 * s'_0
        q=lambda o, a: o.sum(-1) + 3 * a[:, 0],
    )
    y = ddpg_module.compute_q_target(BATCH, ac_targ, gamma=0.9)
    # Q_targ(s', mu_targ(s')) = s'_0 + s'_1 + 6 s'_0: 0.9, -0.1 (done), 7.0
    expected = [1.0 + 0.9 * 0.9, -0.5, 2.0 + 0.9 * 7.0]
    assert y.tolist() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("target_noise, noise_clip", [(0.2, 0.5), (1.0, 0.3)])
def test_td3_target(target_noise, noise_clip):
    act_limit = 1.0
    pi_targ = torch.tensor([[0.95], [0.0], [-0.3]])
    ac_targ = SimpleNamespace(
        pi=lambda o: pi_targ,
        q1=lambda o, a: 10 * a[:, 0] + o[:, 0],
        q2=lambda o, a: -4 * a[:, 0] + 1.0,
    )
    torch.manual_seed(123)
    y = td3_module.compute_q_target(BATCH, ac_targ, 0.99, act_limit, target_noise, noise_clip)

    # By hand: the same noise draw, clipped, added, the sum clipped to the action bounds.
    torch.manual_seed(123)
    eps = (torch.randn(3, 1) * target_noise).numpy()[:, 0]
    eps = np.clip(eps, -noise_clip, noise_clip)
    a2 = np.clip(pi_targ.numpy()[:, 0] + eps, -act_limit, act_limit)
    o2 = BATCH["obs2"].numpy()
    expected = []
    for i in range(3):
        q1, q2 = 10 * a2[i] + o2[i, 0], -4 * a2[i] + 1.0
        expected.append(BATCH["rew"][i].item() + 0.99 * (1 - BATCH["done"][i].item()) * min(q1, q2))
    assert y.tolist() == pytest.approx(expected, abs=1e-5)
    # The noise was really there, clipped where it was large.
    assert not np.allclose(a2, pi_targ.numpy()[:, 0])
    assert np.all(np.abs(a2 - pi_targ.numpy()[:, 0]) <= noise_clip + 1e-7)


def test_sac_target():
    ac = SimpleNamespace(pi=lambda o: (torch.tensor([[0.5], [-1.0], [0.0]]), torch.tensor([-1.0, 2.0, 0.5])))
    ac_targ = SimpleNamespace(
        q1=lambda o, a: torch.tensor([3.0, 1.0, -2.0]),
        q2=lambda o, a: torch.tensor([2.0, 5.0, -1.0]),
    )
    y = sac_module.compute_q_target(BATCH, ac, ac_targ, gamma=0.9, alpha=0.2)
    # r + gamma (1 - d) (min(q1, q2) - alpha logp)
    expected = [1.0 + 0.9 * (2.0 - 0.2 * -1.0), -0.5, 2.0 + 0.9 * (-2.0 - 0.2 * 0.5)]
    assert y.tolist() == pytest.approx(expected, abs=1e-6)


# ----------------------------------------------------------------------------------------------
# Target networks and the replay buffer
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_polyak_update(name):
    core = CORES[name]
    torch.manual_seed(0)
    ac = core.MLPActorCritic(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Box(-1, 1, (2,)), **TINY)
    ac_targ = deepcopy(ac)
    for p in ac_targ.parameters():
        p.requires_grad = False
        p.add_(torch.randn_like(p))
    before = [p.clone() for p in ac_targ.parameters()]
    params, targ_params = list(ac.parameters()), list(ac_targ.parameters())
    core.polyak_update(params, targ_params, 0.9)
    for p, p_targ, p_old in zip(ac.parameters(), ac_targ.parameters(), before):
        assert torch.allclose(p_targ, 0.9 * p_old + 0.1 * p, atol=1e-6)
        assert not p_targ.requires_grad
    core.polyak_update(params, targ_params, 0.0)
    assert all(torch.equal(p, q) for p, q in zip(ac.parameters(), ac_targ.parameters()))


def test_off_policy_core_helpers_stay_identical():
    """get_device and polyak_update are written out in each off-policy core.py, so that each
    algorithm folder reads on its own; this keeps the copies (DQN's included) from drifting."""
    import inspect

    import spinup.algos.pytorch.dqn.core as dqn_core

    for helper in ("get_device", "polyak_update"):
        sources = {inspect.getsource(getattr(c, helper)) for c in (ddpg_core, td3_core, sac_core, dqn_core)}
        assert len(sources) == 1, f"the copies of {helper} differ"


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_replay_buffer_shapes_and_wrap_around(name):
    buf = MODULES[name].ReplayBuffer(obs_dim=(3,), act_dim=2, size=5, device=torch.device("cpu"))
    for i in range(7):
        buf.store(np.full(3, i), np.full(2, -i), float(i), np.full(3, i + 1), i % 2 == 0)
    assert (buf.ptr, buf.size) == (2, 5)
    # The two oldest transitions (0, 1) were overwritten by the newest (5, 6).
    assert buf.obs_buf[:, 0].tolist() == [5, 6, 2, 3, 4]
    assert buf.obs2_buf[:, 0].tolist() == [6, 7, 3, 4, 5]
    assert buf.done_buf.tolist() == [0, 1, 1, 0, 1]
    torch.manual_seed(0)
    batch = buf.sample_batch(64)
    assert batch["obs"].shape == (64, 3) and batch["obs2"].shape == (64, 3)
    assert batch["act"].shape == (64, 2) and batch["rew"].shape == (64,) and batch["done"].shape == (64,)
    assert all(v.dtype == torch.float32 for v in batch.values())
    # Each sampled row is one stored transition, fields kept together.
    assert set(batch["rew"].tolist()) <= {2.0, 3.0, 4.0, 5.0, 6.0}
    assert torch.equal(batch["obs"][:, 0], batch["rew"]) and torch.equal(batch["act"][:, 0], -batch["rew"])
    assert torch.equal(batch["obs2"][:, 0], batch["rew"] + 1)


# ----------------------------------------------------------------------------------------------
# Terminations vs cut-offs, as stored by a real run
# ----------------------------------------------------------------------------------------------


class ScriptedEnv(gym.Env):
    """obs = [100 * episode + step]. Episode 0 terminates after 3 steps, episode 1 is truncated by
    the env after 3 steps, and later episodes never end (the algorithm's max_ep_len cuts them)."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float64)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def __init__(self):
        self.episode, self.t = -1, 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.episode, self.t = self.episode + 1, 0
        return self._obs(), {}

    def _obs(self):
        return np.array([100.0 * self.episode + self.t])

    def step(self, action):
        self.t += 1
        terminated = self.episode == 0 and self.t == 3
        truncated = self.episode == 1 and self.t == 3
        return self._obs(), 1.0, terminated, truncated, {}


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_termination_stored_done_and_cut_offs_not(name, tmp_path, recorded_buffers):
    module = MODULES[name]
    buffers = recorded_buffers(module)
    getattr(module, name)(
        ScriptedEnv,
        ac_kwargs=TINY,
        steps_per_epoch=12,
        epochs=1,
        start_steps=100,
        update_after=0,
        update_every=4,
        batch_size=4,
        num_test_episodes=1,
        max_ep_len=4,
        logger_kwargs=dict(output_dir=str(tmp_path)),
    )
    (buf,) = buffers
    obs, obs2, done = buf.obs_buf[:12, 0].tolist(), buf.obs2_buf[:12, 0].tolist(), buf.done_buf[:12].tolist()
    assert obs == [0, 1, 2, 100, 101, 102, 200, 201, 202, 203, 300, 301]
    # The next observation is always the real one that step returned, never the reset's.
    assert obs2 == [1, 2, 3, 101, 102, 103, 201, 202, 203, 204, 301, 302]
    # Only the termination is done; the env's truncation and the max_ep_len cut-off are not.
    assert done == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]


# ----------------------------------------------------------------------------------------------
# Refusals, short runs, saving and loading
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_discrete_actions_refused(name, tmp_path):
    with pytest.raises(
        UserError,
        match=rf"^{name} needs continuous \(Box\) actions but CartPole-v1 has "
        r"Discrete actions; use dqn, vpg, trpo or ppo for it\.$",
    ):
        getattr(spinup, name)(lambda: gym.make("CartPole-v1"), logger_kwargs=dict(output_dir=str(tmp_path)))


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_bad_arguments_refused(name, tmp_path):
    algo = getattr(spinup, name)
    out = dict(output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        algo(lambda: gym.make("Pendulum-v1"), batch_size=0, logger_kwargs=out)
    with pytest.raises(UserError, match="device must be 'cpu', 'cuda' or 'auto'"):
        algo(lambda: gym.make("Pendulum-v1"), device="tpu", logger_kwargs=out)
    with pytest.raises(UserError, match=r"same bounds \[-a, a\] in every action dimension"):
        algo(
            lambda: gym.wrappers.RescaleAction(gym.make("Pendulum-v1"), np.float32(0), np.float32(1)),
            logger_kwargs=out,
        )


def test_sac_alpha_refused(tmp_path):
    with pytest.raises(UserError, match="alpha must be a number >= 0 or 'auto'"):
        spinup.sac(
            lambda: gym.make("Pendulum-v1"), alpha="learn", logger_kwargs=dict(output_dir=str(tmp_path))
        )


def test_exports():
    for name in ["ddpg", "td3", "sac"]:
        assert getattr(spinup, name) is getattr(spinup, name + "_pytorch") is getattr(MODULES[name], name)
        assert name in spinup.__all__ and name + "_pytorch" in spinup.__all__


SMOKE = dict(
    ac_kwargs=dict(hidden_sizes=(32, 32)),
    steps_per_epoch=150,
    epochs=2,
    start_steps=100,
    update_after=100,
    update_every=50,
    batch_size=32,
    num_test_episodes=2,
    max_ep_len=50,
)


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize(
    "name, extra",
    [
        ("ddpg", {}),
        ("td3", {"device": "auto"}),
        ("sac", {}),
        ("sac", {"alpha": "auto"}),
        pytest.param("ddpg", {"device": "cuda"}, marks=CUDA),
        pytest.param("td3", {"device": "cuda"}, marks=CUDA),
        pytest.param("sac", {"device": "cuda", "alpha": "auto"}, marks=CUDA),
    ],
)
def test_smoke_run_save_and_load(name, extra, tmp_path):
    import pandas as pd

    getattr(spinup, name)(
        lambda: gym.make("Pendulum-v1"), logger_kwargs=dict(output_dir=str(tmp_path)), **SMOKE, **extra
    )
    progress = pd.read_table(tmp_path / "progress.txt")
    assert progress["TotalEnvInteracts"].tolist() == [150, 300]
    assert np.isfinite(progress["LossQ"]).all() and np.isfinite(progress["AverageTestEpRet"]).all()
    assert (progress["TestEpLen"] == 50).all()
    if extra.get("alpha") == "auto":
        # 100 temperature steps from alpha=1 towards a policy with more entropy than the target
        assert progress["Alpha"].iloc[-1] < 1.0

    env, get_action = load_policy_and_env(str(tmp_path), deterministic=True)
    assert env.spec.id == "Pendulum-v1"
    o, _ = env.reset(seed=0)
    a = get_action(o)
    assert isinstance(a, np.ndarray) and a.shape == (1,) and env.action_space.contains(a.astype(np.float32))
    returns = run_policy(env, get_action, max_ep_len=20, num_episodes=1, render=False)
    assert len(returns) == 1 and np.isfinite(returns[0])


def test_command_line_sac_auto_alpha(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "spinup.run",
        "sac",
        "--env",
        "Pendulum-v1",
        "--alpha",
        "auto",
        "--hid",
        "[16]",
        "--steps_per_epoch",
        "100",
        "--epochs",
        "1",
        "--start_steps",
        "50",
        "--update_after",
        "50",
        "--num_test_episodes",
        "1",
        "--max_ep_len",
        "20",
        "--exp_name",
        "cli",
        "--data_dir",
        str(tmp_path),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "cli" / "cli_s0" / "pyt_save" / "model.pt").exists()
