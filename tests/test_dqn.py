"""DQN: its targets against hand computation, its buffer and networks, and short runs."""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

import spinup
import spinup.algos.pytorch.dqn.core as core
import spinup.algos.pytorch.dqn.dqn as dqn_module
from spinup.utils.checks import UserError
from spinup.utils.test_policy import load_policy_and_env, run_policy

TINY = dict(hidden_sizes=(16,))


# ----------------------------------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------------------------------

BATCH = dict(
    obs2=torch.zeros(3, 2),
    rew=torch.tensor([1.0, 0.5, -1.0]),
    done=torch.tensor([0.0, 0.0, 1.0]),
)
Q_ONLINE = torch.tensor([[1.0, 3.0, 2.0], [0.0, -1.0, 4.0], [9.0, 0.0, 0.0]])
Q_TARGET = torch.tensor([[5.0, 2.0, 1.0], [1.0, 7.0, 3.0], [2.0, 2.0, 2.0]])


def test_double_dqn_target():
    ac = SimpleNamespace(q=lambda o: Q_ONLINE)
    ac_targ = SimpleNamespace(q=lambda o: Q_TARGET)
    y = dqn_module.compute_q_target(BATCH, ac, ac_targ, gamma=0.9, double_dqn=True)
    # The online network picks actions 1, 2 (and 0, unused: done); the target network values them.
    assert y.tolist() == pytest.approx([1.0 + 0.9 * 2.0, 0.5 + 0.9 * 3.0, -1.0])


def test_plain_dqn_target():
    ac = SimpleNamespace(q=lambda o: Q_ONLINE)
    ac_targ = SimpleNamespace(q=lambda o: Q_TARGET)
    y = dqn_module.compute_q_target(BATCH, ac, ac_targ, gamma=0.9, double_dqn=False)
    # max_a Q_targ(s', a): 5 and 7
    assert y.tolist() == pytest.approx([1.0 + 0.9 * 5.0, 0.5 + 0.9 * 7.0, -1.0])


# ----------------------------------------------------------------------------------------------
# Buffer and networks
# ----------------------------------------------------------------------------------------------


def test_replay_buffer_keeps_images_uint8_and_wraps_around():
    buf = dqn_module.ReplayBuffer(
        obs_shape=(4, 4, 2), obs_dtype=torch.uint8, size=3, device=torch.device("cpu")
    )
    for i in range(5):
        buf.store(
            np.full((4, 4, 2), 50 * i, np.uint8),
            i % 2,
            float(i),
            np.full((4, 4, 2), 50 * i + 1, np.uint8),
            i == 4,
        )
    assert (buf.ptr, buf.size) == (2, 3)
    assert buf.obs_buf.dtype == torch.uint8 and buf.obs_buf[:, 0, 0, 0].tolist() == [150, 200, 100]
    assert buf.obs2_buf[:, 0, 0, 0].tolist() == [151, 201, 101] and buf.done_buf.tolist() == [0, 1, 0]
    batch = buf.sample_batch(8)
    assert batch["obs"].shape == (8, 4, 4, 2) and batch["obs"].dtype == torch.uint8
    assert batch["act"].shape == (8,) and batch["act"].dtype == torch.int64
    assert batch["rew"].shape == (8,) and batch["done"].shape == (8,)
    assert torch.equal(batch["obs"][:, 0, 0, 0].float(), 50 * batch["rew"])
    assert torch.equal(batch["act"], batch["rew"].long() % 2)


def test_boolean_observations_stored_as_zero_one():
    buf = dqn_module.ReplayBuffer(
        obs_shape=(2, 2, 1), obs_dtype=torch.uint8, size=2, device=torch.device("cpu")
    )
    buf.store(np.array([[[True], [False]], [[False], [True]]]), 0, 0.0, np.zeros((2, 2, 1), bool), False)
    assert buf.obs_buf[0, :, :, 0].tolist() == [[1, 0], [0, 1]]


def test_q_network_chosen_by_observation_space():
    discrete = gym.spaces.Discrete(3)
    assert isinstance(core.QNetwork(gym.spaces.Box(-1, 1, (4,)), discrete).q, core.MLPQFunction)
    assert isinstance(core.QNetwork(gym.spaces.Box(0, 1, (10, 10, 4), bool), discrete).q, core.CNNQFunction)
    assert isinstance(
        core.QNetwork(gym.spaces.Box(0, 255, (4, 84, 84), np.uint8), discrete).q, core.CNNQFunction
    )
    q = core.QNetwork(gym.spaces.Box(0, 255, (84, 84, 3), np.uint8), discrete).q
    assert q(torch.zeros(2, 84, 84, 3, dtype=torch.uint8)).shape == (2, 3)


def test_channels_last_and_first_images_agree():
    torch.manual_seed(0)
    hwc = core.QNetwork(gym.spaces.Box(0, 255, (10, 12, 3), np.uint8), gym.spaces.Discrete(4))
    chw = core.QNetwork(gym.spaces.Box(0, 255, (3, 10, 12), np.uint8), gym.spaces.Discrete(4))
    chw.load_state_dict(hwc.state_dict())
    x = torch.randint(0, 256, (5, 10, 12, 3), dtype=torch.uint8)
    assert torch.allclose(hwc.q(x), chw.q(x.permute(0, 3, 1, 2)), atol=1e-6)
    # uint8 pixels are scaled to [0, 1]: 255 as uint8 is the same input as 1.0 as float for a 0/1 space.
    ones = core.QNetwork(gym.spaces.Box(0, 1, (10, 12, 3), np.float32), gym.spaces.Discrete(4))
    ones.load_state_dict(hwc.state_dict())
    full = torch.full((1, 10, 12, 3), 255, dtype=torch.uint8)
    assert torch.allclose(hwc.q(full), ones.q(torch.ones(1, 10, 12, 3)), atol=1e-6)
    # act() takes one unbatched observation, as test_policy gives it, and returns the greedy action.
    assert int(hwc.act(x[0])) == int(hwc.q(x[:1]).argmax())


# ----------------------------------------------------------------------------------------------
# Runs: what is stored, the epsilon schedule, refusals, saving and loading
# ----------------------------------------------------------------------------------------------


class ScriptedEnv(gym.Env):
    """obs = [100 * episode + step]. Episode 0 terminates after 3 steps, episode 1 is truncated by
    the env after 3 steps, and later episodes never end (the algorithm's max_ep_len cuts them)."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float64)
    action_space = gym.spaces.Discrete(2)

    def __init__(self):
        self.episode, self.t = -1, 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.episode, self.t = self.episode + 1, 0
        return np.array([100.0 * self.episode]), {}

    def step(self, action):
        self.t += 1
        terminated = self.episode == 0 and self.t == 3
        truncated = self.episode == 1 and self.t == 3
        return np.array([100.0 * self.episode + self.t]), 1.0, terminated, truncated, {}


def test_termination_stored_done_and_cut_offs_not(tmp_path, recorded_buffers):
    buffers = recorded_buffers(dqn_module)
    spinup.dqn(
        ScriptedEnv,
        ac_kwargs=TINY,
        steps_per_epoch=12,
        epochs=1,
        update_after=0,
        update_every=4,
        batch_size=4,
        num_test_episodes=1,
        max_ep_len=4,
        logger_kwargs=dict(output_dir=str(tmp_path)),
    )
    (buf,) = buffers
    assert buf.obs_buf[:12, 0].tolist() == [0, 1, 2, 100, 101, 102, 200, 201, 202, 203, 300, 301]
    assert buf.obs2_buf[:12, 0].tolist() == [1, 2, 3, 101, 102, 103, 201, 202, 203, 204, 301, 302]
    assert buf.done_buf[:12].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def test_epsilon_schedule_is_linear_then_flat(tmp_path):
    spinup.dqn(
        lambda: gym.make("CartPole-v1"),
        ac_kwargs=TINY,
        steps_per_epoch=50,
        epochs=3,
        eps_start=1.0,
        eps_end=0.05,
        eps_decay_steps=100,
        update_after=0,
        update_every=10,
        batch_size=8,
        num_test_episodes=1,
        logger_kwargs=dict(output_dir=str(tmp_path)),
    )
    progress = pd.read_table(tmp_path / "progress.txt")
    # epsilon at the last step of each epoch (t = 49, 99, 149)
    assert progress["Epsilon"].tolist() == pytest.approx([1 - 0.49 * 0.95, 1 - 0.99 * 0.95, 0.05])


def test_continuous_actions_refused(tmp_path):
    with pytest.raises(
        UserError,
        match=r"^dqn needs discrete actions but Pendulum-v1 has Box actions; use ddpg, "
        r"td3, sac, vpg, trpo or ppo for it\.$",
    ):
        spinup.dqn(lambda: gym.make("Pendulum-v1"), logger_kwargs=dict(output_dir=str(tmp_path)))


def test_bad_arguments_refused(tmp_path):
    out = dict(output_dir=str(tmp_path))
    with pytest.raises(UserError, match="polyak must be None"):
        spinup.dqn(lambda: gym.make("CartPole-v1"), polyak=1.5, logger_kwargs=out)
    with pytest.raises(UserError, match="eps_end must be a number between 0 and 1"):
        spinup.dqn(lambda: gym.make("CartPole-v1"), eps_end=-0.1, logger_kwargs=out)
    with pytest.raises(UserError, match="device must be 'cpu', 'cuda' or 'auto'"):
        spinup.dqn(lambda: gym.make("CartPole-v1"), device="gpu", logger_kwargs=out)


def test_exports():
    assert spinup.dqn is spinup.dqn_pytorch is dqn_module.dqn
    assert "dqn" in spinup.__all__ and "dqn_pytorch" in spinup.__all__


SMOKE = dict(
    steps_per_epoch=150,
    epochs=2,
    update_after=100,
    update_every=50,
    batch_size=32,
    num_test_episodes=2,
    eps_decay_steps=200,
    target_update_every=100,
    max_ep_len=100,
)


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"polyak": 0.99, "double_dqn": False, "device": "auto"},
        pytest.param({"device": "cuda"}, marks=CUDA),
    ],
)
def test_smoke_run_save_and_load_cartpole(extra, tmp_path):
    spinup.dqn(
        lambda: gym.make("CartPole-v1"),
        ac_kwargs=dict(hidden_sizes=(32, 32)),
        logger_kwargs=dict(output_dir=str(tmp_path)),
        **SMOKE,
        **extra,
    )
    progress = pd.read_table(tmp_path / "progress.txt")
    assert progress["TotalEnvInteracts"].tolist() == [150, 300]
    assert np.isfinite(progress["LossQ"].iloc[-1]) and np.isfinite(progress["AverageTestEpRet"]).all()

    env, get_action = load_policy_and_env(str(tmp_path), deterministic=True)
    assert env.spec.id == "CartPole-v1"
    o, _ = env.reset(seed=0)
    assert env.action_space.contains(get_action(o))
    returns = run_policy(env, get_action, num_episodes=1, render=False)
    assert len(returns) == 1 and returns[0] >= 1


class ImageCueEnv(gym.Env):
    """A tiny image task: one of two channels of an 8x8x2 uint8 image lights a random pixel; the
    rewarded action is that channel's index. Ten steps per episode."""

    observation_space = gym.spaces.Box(0, 255, (8, 8, 2), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._new_obs(), {}

    def _new_obs(self):
        self.cue = int(self.np_random.integers(2))
        obs = np.zeros((8, 8, 2), np.uint8)
        obs[self.np_random.integers(8), self.np_random.integers(8), self.cue] = 255
        return obs

    def step(self, action):
        self.t += 1
        r = float(int(action) == self.cue)
        return self._new_obs(), r, self.t == 10, False, {}


def test_smoke_run_image_observations(tmp_path):
    if "ImageCue-v0" not in gym.registry:
        gym.register("ImageCue-v0", entry_point=ImageCueEnv)
    spinup.dqn(
        lambda: gym.make("ImageCue-v0"),
        ac_kwargs=dict(hidden_sizes=(32,)),
        logger_kwargs=dict(output_dir=str(tmp_path)),
        **SMOKE,
    )
    progress = pd.read_table(tmp_path / "progress.txt")
    assert (progress["TestEpLen"] == 10).all() and np.isfinite(progress["LossQ"].iloc[-1])

    env, get_action = load_policy_and_env(str(tmp_path))
    assert env.observation_space.shape == (8, 8, 2)  # rebuilt as an image, not flattened
    returns = run_policy(env, get_action, num_episodes=1, render=False)
    assert 0 <= returns[0] <= 10


def test_smoke_run_minatar(tmp_path):
    pytest.importorskip("minatar")
    from spinup.utils.envs import make_env_fn

    # make_env_fn registers MinAtar's ids itself (Gymnasium 1.x loads no plugins).
    spinup.dqn(
        make_env_fn("MinAtar/Breakout-v1"),
        ac_kwargs=dict(hidden_sizes=(32,)),
        logger_kwargs=dict(output_dir=str(tmp_path)),
        replay_size=1000,
        **SMOKE,
    )
    env, get_action = load_policy_and_env(str(tmp_path))
    assert env.observation_space.shape == (10, 10, 4)
    returns = run_policy(env, get_action, max_ep_len=50, num_episodes=1, render=False)
    assert len(returns) == 1


def test_minatar_freeway_lasts_its_2500_steps():
    pytest.importorskip("minatar")
    import gymnasium as gym
    import minatar.gym

    from spinup.utils.envs import make_env_by_id

    assert make_env_by_id("MinAtar/Freeway-v1").spec.max_episode_steps == 2500
    assert gym.spec("MinAtar/Freeway-v0").max_episode_steps == 2500
    assert make_env_by_id("MinAtar/Breakout-v1").spec.max_episode_steps is None  # the others have no time limit
    # the same when the ids were registered before spinup saw them
    with pytest.warns(UserWarning, match="Overriding"):
        minatar.gym.register_envs()
    assert gym.registry["MinAtar/Freeway-v1"].max_episode_steps is None
    env = make_env_by_id("MinAtar/Freeway-v1")
    assert env.spec.max_episode_steps == 2500
    env.reset(seed=0)
    steps, terminated, truncated = 0, False, False
    while not (terminated or truncated):
        _, _, terminated, truncated, _ = env.step(0)
        steps += 1
    assert (steps, truncated) == (2500, True)
