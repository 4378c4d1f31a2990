"""The math of the on-policy family: discounted sums, GAE, log-probs, truncation bootstrapping."""

import importlib

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch.distributions import Categorical

from spinup.algos.pytorch.ppo import core, ppo as ppo_module


def test_discount_cumsum_matches_hand_computation():
    x = np.array([1.0, 2.0, 3.0])
    out = core.discount_cumsum(x, 0.5)
    np.testing.assert_allclose(out, [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3])


class IdentityCritic(torch.nn.Module):
    """V(s) = s[0]: lets a test choose the values along a trajectory through its observations."""

    def forward(self, obs):
        return obs[..., 0]


def test_gae_and_returns_match_hand_computation():
    gamma, lam = 0.9, 0.8
    buf = ppo_module.PPOBuffer(obs_dim=(1,), act_dim=(1,), size=3, gamma=gamma, lam=lam)
    rews, vals = [1.0, 0.0, 2.0], [0.5, 1.0, -1.0]
    for r, v in zip(rews, vals):
        buf.store(np.array([v]), np.zeros(1), r)
    last_val = 3.0
    buf.finish_path(last_val)
    ac = core.MLPActorCritic(spaces.Box(-5, 5, (1,)), spaces.Box(-1, 1, (1,)))
    ac.v = IdentityCritic()
    data = buf.get(ac)
    d0 = 1.0 + gamma * 1.0 - 0.5
    d1 = 0.0 + gamma * -1.0 - 1.0
    d2 = 2.0 + gamma * 3.0 - -1.0
    gl = gamma * lam
    adv = np.array([d0 + gl * d1 + gl**2 * d2, d1 + gl * d2, d2])
    # advantages come back normalised (population std, as mpi_statistics_scalar computes it)
    np.testing.assert_allclose(data["adv"].numpy(), (adv - adv.mean()) / adv.std(), rtol=1e-5)
    np.testing.assert_allclose(
        data["ret"].numpy(),
        [1 + gamma * 0 + gamma**2 * 2 + gamma**3 * 3, 0 + gamma * 2 + gamma**2 * 3, 2 + gamma * 3],
        rtol=1e-6,
    )
    np.testing.assert_allclose(data["val"].numpy(), vals)
    assert abs(data["adv"].mean().item()) < 1e-6
    assert abs(data["adv"].std(unbiased=False).item() - 1) < 1e-4


def test_batched_values_and_log_probs_equal_per_step_ones():
    """get() evaluates V and log pi once for the whole batch: the same numbers step() gives one at a time."""
    torch.manual_seed(0)
    ac = core.MLPActorCritic(spaces.Box(-1, 1, (3,)), spaces.Box(-1, 1, (2,)))
    buf = ppo_module.PPOBuffer(obs_dim=(3,), act_dim=(2,), size=6, gamma=0.99, lam=0.95)
    per_step = []
    for t in range(6):
        o = torch.randn(3)
        a, v, logp = ac.step(o)
        per_step.append((v, logp))
        buf.store(o.numpy(), a, 1.0)
        if t in (2, 5):
            buf.finish_path(0.0)
    data = buf.get(ac)
    np.testing.assert_allclose(data["val"].numpy(), [v for v, _ in per_step], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(data["logp"].numpy(), [lp for _, lp in per_step], rtol=1e-5, atol=1e-6)


def test_two_paths_in_one_epoch_are_computed_apart():
    """Each trajectory's advantages stop at its own end: the next one's rewards do not leak back."""
    buf = ppo_module.PPOBuffer(obs_dim=(1,), act_dim=(1,), size=4, gamma=0.5, lam=1.0)
    for r in (1.0, 1.0, 4.0, 4.0):
        buf.store(np.zeros(1), np.zeros(1), r)
        if buf.ptr == 2:
            buf.finish_path(0.0)
    buf.finish_path(2.0)
    ac = core.MLPActorCritic(spaces.Box(-5, 5, (1,)), spaces.Box(-1, 1, (1,)))
    ac.v = IdentityCritic()  # V = 0 everywhere: advantages are the discounted returns
    data = buf.get(ac)
    np.testing.assert_allclose(data["ret"].numpy(), [1 + 0.5, 1, 4 + 0.5 * 4 + 0.25 * 2, 4 + 0.5 * 2])


def test_gaussian_log_prob_matches_torch_distributions():
    torch.manual_seed(0)
    actor = core.MLPGaussianActor(obs_dim=5, act_dim=3, hidden_sizes=(16,), activation=torch.nn.Tanh)
    obs, act = torch.randn(7, 5), torch.randn(7, 3)
    pi, logp = actor(obs, act)
    mu, std = actor.mu_net(obs), torch.exp(actor.log_std)
    expected = torch.distributions.MultivariateNormal(mu, scale_tril=torch.diag(std)).log_prob(act)
    torch.testing.assert_close(logp, expected)
    # and by hand: -1/2 sum(((a - mu) / std)^2 + 2 log std + log 2 pi)
    by_hand = -0.5 * (((act - mu) / std) ** 2 + 2 * actor.log_std + np.log(2 * np.pi)).sum(-1)
    torch.testing.assert_close(logp, by_hand)


def test_categorical_log_prob_matches_torch_distributions():
    torch.manual_seed(0)
    actor = core.MLPCategoricalActor(obs_dim=4, act_dim=3, hidden_sizes=(8,), activation=torch.nn.Tanh)
    obs, act = torch.randn(6, 4), torch.tensor([0, 1, 2, 2, 1, 0])
    _, logp = actor(obs, act)
    expected = Categorical(logits=actor.logits_net(obs)).log_prob(act)
    torch.testing.assert_close(logp, expected)
    by_hand = torch.log_softmax(actor.logits_net(obs), -1)[torch.arange(6), act]
    torch.testing.assert_close(logp, by_hand)


def test_actor_critic_step_shapes_and_deterministic_act():
    ac = core.MLPActorCritic(spaces.Box(-1, 1, (4,)), spaces.Box(-2, 2, (2,)))
    a, v, logp = ac.step(torch.zeros(10, 4))
    assert a.shape == (10, 2) and v.shape == (10,) and logp.shape == (10,)
    mode = ac.act(torch.zeros(4), deterministic=True)
    np.testing.assert_allclose(mode, ac.pi.mu_net(torch.zeros(4)).detach().numpy())


def test_env_actions_are_clipped_but_buffer_keeps_sample():
    box = spaces.Box(-1, 1, (2,))
    np.testing.assert_array_equal(core.to_env_action(np.array([3.0, -0.5]), box), [1.0, -0.5])


class KnownCritic(torch.nn.Module):
    """V(s) = 10 * s[0] + s[1], whatever training does (its one weight is multiplied by zero)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, obs):
        return 10 * obs[..., 0] + obs[..., 1] + 0 * self.w


def recorded_last_values(module, algo, scripted_env, tmp_out, monkeypatch, steps, core=core, critic=KnownCritic):
    """The ``last_val`` of every ``finish_path`` in one epoch of ``algo`` on the scripted env, with
    ``core``'s actor-critic given the known ``critic``."""
    calls = []
    buffer_cls = getattr(module, algo.upper() + "Buffer")
    original = buffer_cls.finish_path

    def recording_finish_path(self, last_val=0):
        calls.append(float(np.asarray(last_val)))
        return original(self, last_val)

    monkeypatch.setattr(buffer_cls, "finish_path", recording_finish_path)

    def make_ac(obs_space, act_space, **kw):
        ac = core.MLPActorCritic(obs_space, act_space, **kw)
        ac.v = critic()
        return ac

    getattr(module, algo)(lambda: scripted_env(length=3), actor_critic=make_ac, steps_per_epoch=steps, epochs=1,
                          logger_kwargs=tmp_out, train_v_iters=1)
    return calls


@pytest.mark.parametrize("algo", ["vpg", "trpo", "ppo"])
def test_truncation_is_bootstrapped_and_termination_is_not(algo, scripted_env, tmp_out, monkeypatch):
    """terminated -> 0; truncated -> V(real next obs); end of epoch -> V(next obs)."""
    module = importlib.import_module(f"spinup.algos.pytorch.{algo}.{algo}")
    calls = recorded_last_values(module, algo, scripted_env, tmp_out, monkeypatch, steps=8)
    # Episode 0 terminates after 3 steps: nothing to bootstrap.
    # Episode 1 is truncated after 3 steps; its last observation is [3, 1, 1]: V = 31
    #   (not V of the reset observation [0, 2, 1] = 2, nor of the previous one [2, 1, 1] = 21).
    # Episode 2 is cut by the end of the epoch after 2 steps at [2, 2, 1]: V = 22.
    assert calls == [0.0, 31.0, 22.0]


def test_on_policy_core_files_stay_identical():
    """Each folder carries its own core.py so it reads alone; the copies must not drift apart."""
    from pathlib import Path

    root = Path(ppo_module.__file__).parent.parent
    ppo_core = (root / "ppo" / "core.py").read_text()
    assert (root / "vpg" / "core.py").read_text() == ppo_core
    # TRPO's adds its conjugate-gradient helpers after the shared part.
    assert (root / "trpo" / "core.py").read_text().startswith(ppo_core)


def test_on_policy_buffers_stay_identical():
    """VPGBuffer, TRPOBuffer and PPOBuffer are one class written out in each file: no drift."""
    import inspect

    sources = {}
    for algo in ("vpg", "trpo", "ppo"):
        module = importlib.import_module(f"spinup.algos.pytorch.{algo}.{algo}")
        sources[algo] = inspect.getsource(getattr(module, algo.upper() + "Buffer")).replace(algo.upper(), "X")
    assert sources["vpg"] == sources["ppo"] and sources["trpo"] == sources["ppo"]
