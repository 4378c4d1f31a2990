"""DDPG, TD3 and SAC: the schedule of TD3's delayed policy updates, the units of its noise, test
episodes that leave the training run alone, replay buffers that must fit in memory, and uint8
observations scaled to [0, 1]."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

import spinup.algos.pytorch.ddpg.core as ddpg_core
import spinup.algos.pytorch.ddpg.ddpg as ddpg_module
import spinup.algos.pytorch.sac.core as sac_core
import spinup.algos.pytorch.sac.sac as sac_module
import spinup.algos.pytorch.td3.core as td3_core
import spinup.algos.pytorch.td3.td3 as td3_module
from spinup.exercises import checkers
from spinup.utils.checks import UserError
from spinup.utils.logx import EpochLogger
from conftest import EndlessEnv

MODULES = {"ddpg": ddpg_module, "td3": td3_module, "sac": sac_module}
CORES = {"ddpg": ddpg_core, "td3": td3_core, "sac": sac_core}
TINY = dict(hidden_sizes=(16, 16))


def run(name, tmp_path, module=None, env_fn=lambda: gym.make("Pendulum-v1"), **kwargs):
    module = module or MODULES[name]
    settings = dict(ac_kwargs=TINY, steps_per_epoch=100, epochs=1, start_steps=100, update_after=0,
                    update_every=50, batch_size=16, num_test_episodes=1, max_ep_len=25,
                    logger_kwargs=dict(output_dir=str(tmp_path)))
    settings.update(kwargs)
    getattr(module, name)(env_fn, **settings)
    return pd.read_table(tmp_path / "progress.txt")


# ----------------------------------------------------------------------------------------------
# TD3: one policy update per policy_delay Q-updates, counted over the whole run
# ----------------------------------------------------------------------------------------------


def td3_modules():
    return {"td3": td3_module, "exercise1_3_soln": checkers.reference_module("1.3")}


@pytest.mark.parametrize("copy", ["td3", "exercise1_3_soln"])
@pytest.mark.parametrize("update_every, policy_delay", [(1, 2), (3, 2), (50, 2), (1, 3), (50, 3)])
def test_td3_policy_delay_counts_q_updates_over_the_run(copy, update_every, policy_delay, tmp_path, monkeypatch):
    module = td3_modules()[copy]
    counts = dict(LossQ=0, LossPi=0)

    class CountingLogger(EpochLogger):
        def store(self, **kwargs):
            for key in counts:
                counts[key] += key in kwargs
            super().store(**kwargs)

    monkeypatch.setattr(module, "EpochLogger", CountingLogger)
    run("td3", tmp_path, module=module, steps_per_epoch=150, update_every=update_every, policy_delay=policy_delay)
    # 150 steps, a burst of update_every Q-updates every update_every steps from step 0.
    assert counts["LossQ"] == 150
    assert counts["LossPi"] == 150 // policy_delay


# ----------------------------------------------------------------------------------------------
# Noise in units of the action limit, as in the TD3 paper's code
# ----------------------------------------------------------------------------------------------


class WideActionEnv(EndlessEnv):
    """Actions in [-10, 10]; the observation is the step count, episodes never end by themselves."""

    action_space = gym.spaces.Box(-10.0, 10.0, (2,), np.float32)


def zero_policy(core):
    class ZeroPolicy(core.MLPActorCritic):
        """The default networks, but ``act`` always answers 0: what reaches the env is the noise."""

        def act(self, obs, deterministic=False):
            return np.zeros(2)

    return ZeroPolicy


@pytest.mark.parametrize("name", ["ddpg", "td3"])
def test_exploration_noise_is_a_fraction_of_the_action_limit(name, tmp_path, monkeypatch):
    module, actions = MODULES[name], []
    original = module.ReplayBuffer.store

    def store(self, obs, act, rew, next_obs, done):
        actions.append(np.array(act))
        original(self, obs, act, rew, next_obs, done)

    monkeypatch.setattr(module.ReplayBuffer, "store", store)
    run(name, tmp_path, env_fn=WideActionEnv, actor_critic=zero_policy(CORES[name]), steps_per_epoch=400,
        start_steps=0, update_after=10_000, act_noise=0.1)
    # act_noise=0.1 with act_limit=10: a standard deviation of 1 (it would be 0.1 in absolute units).
    assert np.std(actions) == pytest.approx(1.0, rel=0.1)


def test_td3_target_noise_is_a_fraction_of_the_action_limit(tmp_path, monkeypatch):
    seen = []
    original = td3_module.compute_q_target

    def compute_q_target(data, ac_targ, gamma, act_limit, target_noise, noise_clip):
        seen.append((act_limit, target_noise, noise_clip))
        return original(data, ac_targ, gamma, act_limit, target_noise, noise_clip)

    monkeypatch.setattr(td3_module, "compute_q_target", compute_q_target)
    run("td3", tmp_path, env_fn=WideActionEnv, target_noise=0.2, noise_clip=0.5)
    assert seen and all(args == pytest.approx((10.0, 2.0, 5.0)) for args in seen)


# ----------------------------------------------------------------------------------------------
# Test episodes draw nothing from the random streams that training uses
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_num_test_episodes_does_not_change_the_training_run(name, tmp_path):
    runs = [run(name, tmp_path / str(n), steps_per_epoch=100, epochs=2, start_steps=50, update_after=50,
                num_test_episodes=n) for n in (1, 3)]
    training = ["AverageEpRet", "MinEpRet", "MaxEpRet", "LossQ", "LossPi"]
    pd.testing.assert_frame_equal(runs[0][training], runs[1][training])
    assert list(runs[1]["TestEpLen"]) == [25.0, 25.0]


# ----------------------------------------------------------------------------------------------
# Replay buffers that cannot fit are refused before anything is allocated
# ----------------------------------------------------------------------------------------------


class ImageEnv(gym.Env):
    """84x84 RGB uint8 observations of random pixels, continuous actions, episodes of 10 steps."""

    observation_space = gym.spaces.Box(0, 255, (84, 84, 3), np.uint8)
    action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return self.observation_space.sample(), float(action[0]), False, self.t == 10, {}


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_a_replay_buffer_too_big_for_memory_is_refused_in_one_sentence(name, tmp_path, monkeypatch):
    def no_buffer(*args, **kwargs):
        raise AssertionError("the buffer was allocated before the check")

    monkeypatch.setattr(MODULES[name], "ReplayBuffer", no_buffer)
    with pytest.raises(UserError, match=rf"^{name}'s replay buffer needs [\d.]+ GiB for replay_size=1000000000000, "
                                        r"but only [\d.]+ GiB .*pass a smaller replay_size") as e:
        run(name, tmp_path, env_fn=ImageEnv, replay_size=10**12)
    assert str(e.value).count(". ") == 0


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_the_check_counts_uint8_observations_as_one_byte(name, tmp_path, monkeypatch):
    sizes = []
    monkeypatch.setattr(MODULES[name], "check_replay_fits",
                        lambda algo, size, bytes_per_transition, device: sizes.append(bytes_per_transition))
    run(name, tmp_path, env_fn=ImageEnv, replay_size=1000, steps_per_epoch=20, max_ep_len=10)
    # obs and next obs as bytes, then action, reward and done as float32
    assert sizes == [2 * 84 * 84 * 3 + 4 * (2 + 1 + 1)]


# ----------------------------------------------------------------------------------------------
# uint8 observations reach the networks scaled to [0, 1]
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_uint8_observations_are_scaled_by_1_over_255_in_every_network(name):
    core = CORES[name]
    act_space = gym.spaces.Box(-2.0, 2.0, (2,), np.float32)
    torch.manual_seed(0)
    ac_bytes = core.MLPActorCritic(gym.spaces.Box(0, 255, (6,), np.uint8), act_space, **TINY)
    ac_float = core.MLPActorCritic(gym.spaces.Box(0.0, 1.0, (6,), np.float32), act_space, **TINY)
    ac_float.load_state_dict(ac_bytes.state_dict())
    raw = torch.randint(0, 256, (5, 6)).float()
    act = torch.rand(5, 2) * 4 - 2
    qs = ["q"] if name == "ddpg" else ["q1", "q2"]
    for q in qs:
        torch.testing.assert_close(getattr(ac_bytes, q)(raw, act), getattr(ac_float, q)(raw / 255, act))
    np.testing.assert_allclose(ac_bytes.act(raw, deterministic=True), ac_float.act(raw / 255, deterministic=True),
                               rtol=1e-5, atol=1e-6)
    if name != "sac":
        torch.testing.assert_close(ac_bytes.pi(raw), ac_float.pi(raw / 255))


@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_uint8_observations_are_stored_as_bytes_and_batches_hold_their_values(name, tmp_path, monkeypatch):
    module, buffers, seen = MODULES[name], [], []

    class RecordingBuffer(module.ReplayBuffer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            buffers.append(self)

        def store(self, obs, act, rew, next_obs, done):
            seen.append(np.array(obs))
            super().store(obs, act, rew, next_obs, done)

    monkeypatch.setattr(module, "ReplayBuffer", RecordingBuffer)
    run(name, tmp_path, env_fn=ImageEnv, replay_size=1000, steps_per_epoch=40, max_ep_len=10, batch_size=8,
        start_steps=20, update_after=20, update_every=20)
    (buf,) = buffers
    assert buf.obs_buf.dtype == buf.obs2_buf.dtype == torch.uint8
    assert np.array_equal(buf.obs_buf[:40].numpy(), np.stack(seen))
    batch = buf.sample_batch(8)
    assert batch["obs"].dtype == torch.float32 and batch["obs"].max() > 1.0
