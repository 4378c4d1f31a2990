"""DQN on the inputs that used to go wrong: image layouts, uint8 vectors, shifted action sets,
episode limits, test episodes that touched the training stream, and replay buffers too big to fit."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

import spinup
import spinup.algos.pytorch.dqn.core as core
import spinup.algos.pytorch.dqn.dqn as dqn_module
import spinup.utils.checks as checks
from spinup.utils.checks import UserError
from spinup.utils.test_policy import load_policy_and_env
from conftest import EndlessEnv

TINY = dict(hidden_sizes=(16,))
QUICK = dict(steps_per_epoch=60, epochs=1, update_after=30, update_every=10, batch_size=8,
             num_test_episodes=1, max_ep_len=40, replay_size=200)

MINATAR_GAMES = ["Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders"]


# ----------------------------------------------------------------------------------------------
# Image layout: HxWxC or CxHxW
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("game", MINATAR_GAMES)
def test_minatar_images_read_as_height_width_channels(game, tmp_path):
    pytest.importorskip("minatar")
    from spinup.utils.envs import make_env_fn

    spinup.dqn(make_env_fn(f"MinAtar/{game}-v1"), ac_kwargs=TINY,
               logger_kwargs=dict(output_dir=str(tmp_path)), **QUICK)
    env, _ = load_policy_and_env(str(tmp_path))
    h, w, c = env.observation_space.shape
    from spinup.utils.serialization_utils import rebuild_model, safe_torch_load

    q = rebuild_model(safe_torch_load(str(tmp_path / "pyt_save" / "model.pt"))).q
    assert q.conv[0].in_channels == c
    # The network must convolve over the two spatial axes: its output equals the conv layers applied
    # to the observation moved to (C, H, W) by hand. Seaquest (10x10x10) is the case a guess gets wrong.
    x = torch.as_tensor(np.stack([env.reset(seed=s)[0] for s in range(3)]))
    by_hand = q.head(q.conv(x.permute(0, 3, 1, 2).to(torch.float32)))
    assert torch.allclose(q(x), by_hand, atol=1e-6)


def test_layout_decided_from_the_shape_when_it_is_clear():
    assert core.is_channels_first((4, 84, 84)) is True
    assert core.is_channels_first((84, 84, 3)) is False
    assert core.is_channels_first((210, 160, 3)) is False
    assert core.is_channels_first((3, 210, 160)) is True
    assert core.is_channels_first((10, 10, 10), channels_first=False) is False
    assert core.is_channels_first((84, 84, 3), channels_first=True) is True


def test_ambiguous_layout_refused_until_named():
    space = gym.spaces.Box(0, 255, (10, 10, 10), np.uint8)
    with pytest.raises(UserError, match=r"^dqn cannot tell .*\(10, 10, 10\).*channels_first=False"):
        core.QNetwork(space, gym.spaces.Discrete(2))
    assert core.QNetwork(space, gym.spaces.Discrete(2), channels_first=False).q.channels_last
    assert not core.QNetwork(space, gym.spaces.Discrete(2), channels_first=True).q.channels_last


class SquareImageEnv(gym.Env):
    """8x8x8 uint8 images: as ambiguous as MinAtar Seaquest, but with no hint of who made them."""

    observation_space = gym.spaces.Box(0, 255, (8, 8, 8), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.integers(0, 256, (8, 8, 8), dtype=np.uint8), {}

    def step(self, action):
        self.t += 1
        return self.np_random.integers(0, 256, (8, 8, 8), dtype=np.uint8), 0.0, self.t == 5, False, {}


def test_dqn_option_names_the_layout_and_the_saved_model_keeps_it(tmp_path):
    with pytest.raises(UserError, match="channels_first"):
        spinup.dqn(SquareImageEnv, ac_kwargs=TINY, logger_kwargs=dict(output_dir=str(tmp_path / "a")), **QUICK)
    spinup.dqn(SquareImageEnv, ac_kwargs=TINY, channels_first=True,
               logger_kwargs=dict(output_dir=str(tmp_path / "b")), **QUICK)
    from spinup.utils.serialization_utils import rebuild_model, safe_torch_load

    record = safe_torch_load(str(tmp_path / "b" / "pyt_save" / "model.pt"))
    assert not rebuild_model(record).q.channels_last


def test_stacked_frames_read_as_channels_first():
    class Frames(gym.Env):
        observation_space = gym.spaces.Box(0, 255, (12, 12), np.uint8)
        action_space = gym.spaces.Discrete(2)

    stacked = gym.wrappers.FrameStackObservation(Frames(), 12)
    assert stacked.observation_space.shape == (12, 12, 12)
    assert dqn_module.image_channels_first(stacked, None) is True
    assert dqn_module.image_channels_first(stacked, False) is False


# ----------------------------------------------------------------------------------------------
# uint8 vectors (ALE RAM) are scaled like pixels
# ----------------------------------------------------------------------------------------------


def test_uint8_vector_observations_scaled_to_unit_interval():
    torch.manual_seed(0)
    ram = core.QNetwork(gym.spaces.Box(0, 255, (8,), np.uint8), gym.spaces.Discrete(3))
    unit = core.QNetwork(gym.spaces.Box(0, 1, (8,), np.float32), gym.spaces.Discrete(3))
    unit.load_state_dict(ram.state_dict())
    x = torch.randint(0, 256, (5, 8), dtype=torch.uint8)
    assert torch.allclose(ram.q(x), unit.q(x.float() / 255), atol=1e-6)
    # test_policy hands the network float32 copies of the same numbers: the scaling still applies.
    assert torch.allclose(ram.q(x.float()), unit.q(x.float() / 255), atol=1e-6)
    # Boolean vectors are already 0/1.
    flags = core.QNetwork(gym.spaces.Box(0, 1, (8,), bool), gym.spaces.Discrete(3))
    flags.load_state_dict(ram.state_dict())
    assert torch.allclose(flags.q(x > 127), unit.q((x > 127).float()), atol=1e-6)


# ----------------------------------------------------------------------------------------------
# Discrete(n, start=k)
# ----------------------------------------------------------------------------------------------


class ShiftedActionsEnv(gym.Env):
    """Actions are {1, 2, 3}; anything else is an error. Action 3 pays 1. Episodes last 8 steps."""

    observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
    action_space = gym.spaces.Discrete(3, start=1)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        if int(action) not in (1, 2, 3):
            raise ValueError(f"action {action!r} is not one of 1, 2, 3")
        self.t += 1
        return np.full(2, self.t / 8, np.float32), float(int(action) == 3), self.t == 8, False, {}


def test_discrete_start_honoured_when_acting_and_stored_from_zero(tmp_path, recorded_buffers):
    buffers = recorded_buffers(dqn_module)
    spinup.dqn(ShiftedActionsEnv, ac_kwargs=TINY, logger_kwargs=dict(output_dir=str(tmp_path)),
               eps_decay_steps=30, **QUICK)
    (buf,) = buffers
    assert set(buf.act_buf[: buf.size].tolist()) <= {0, 1, 2}
    _, get_action = load_policy_and_env(str(tmp_path))
    # test_policy shifts the network's index by start exactly once
    for t in range(9):
        assert int(get_action(np.full(2, t / 8, np.float32))) in (1, 2, 3)


# ----------------------------------------------------------------------------------------------
# max_ep_len follows the environment's own time limit
# ----------------------------------------------------------------------------------------------


LONG = dict(steps_per_epoch=1300, epochs=1, update_after=5000, num_test_episodes=1, ac_kwargs=TINY,
            replay_size=2000)


def test_max_ep_len_defaults_to_the_registered_time_limit(tmp_path):
    if "Endless1200-v0" not in gym.registry:
        gym.register("Endless1200-v0", entry_point=EndlessEnv, max_episode_steps=1200)
    spinup.dqn(lambda: gym.make("Endless1200-v0"), logger_kwargs=dict(output_dir=str(tmp_path)), **LONG)
    progress = pd.read_table(tmp_path / "progress.txt")
    assert progress["EpLen"].tolist() == [1200] and progress["TestEpLen"].tolist() == [1200]


def test_max_ep_len_default_is_1000_for_an_env_that_declares_no_limit(tmp_path):
    # A greedy test episode in an env that never ends must still end.
    spinup.dqn(lambda: EndlessEnv(), logger_kwargs=dict(output_dir=str(tmp_path)), **LONG)
    progress = pd.read_table(tmp_path / "progress.txt")
    assert progress["EpLen"].tolist() == [1000] and progress["TestEpLen"].tolist() == [1000]


def test_max_ep_len_given_still_cuts(tmp_path):
    spinup.dqn(lambda: EndlessEnv(ends_at=1100), max_ep_len=300, logger_kwargs=dict(output_dir=str(tmp_path)),
               **LONG)
    progress = pd.read_table(tmp_path / "progress.txt")
    assert progress["EpLen"].tolist() == [300] and progress["TestEpLen"].tolist() == [300]


# ----------------------------------------------------------------------------------------------
# Test episodes leave the training run alone
# ----------------------------------------------------------------------------------------------


def test_num_test_episodes_does_not_change_training(tmp_path):
    training_columns = ["AverageEpRet", "MaxEpRet", "EpLen", "AverageQVals", "LossQ"]
    runs = []
    for n in (1, 4):
        out = tmp_path / f"n{n}"
        spinup.dqn(lambda: gym.make("CartPole-v1"), ac_kwargs=TINY, steps_per_epoch=200, epochs=3,
                   update_after=50, update_every=25, batch_size=16, eps_start=0.5, eps_end=0.5,
                   num_test_episodes=n, logger_kwargs=dict(output_dir=str(out)))
        runs.append(pd.read_table(out / "progress.txt")[training_columns])
    pd.testing.assert_frame_equal(runs[0], runs[1])


# ----------------------------------------------------------------------------------------------
# A replay buffer that cannot fit is refused before it is allocated
# ----------------------------------------------------------------------------------------------


class BigImageEnv(gym.Env):
    observation_space = gym.spaces.Box(0, 255, (84, 84, 3), np.uint8)
    action_space = gym.spaces.Discrete(4)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros((84, 84, 3), np.uint8), {}

    def step(self, action):
        return np.zeros((84, 84, 3), np.uint8), 0.0, False, False, {}


def test_replay_buffer_that_does_not_fit_is_refused_in_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "_free_bytes", lambda device: 8 * 2**30)

    class NotAllowed(dqn_module.ReplayBuffer):
        def __init__(self, *args, **kwargs):
            raise AssertionError("the replay buffer was allocated before its size was checked")

    monkeypatch.setattr(dqn_module, "ReplayBuffer", NotAllowed)
    # Two 84x84x3 uint8 images, an int64 action, float32 reward and done: 42,352 bytes a transition.
    with pytest.raises(UserError) as err:
        spinup.dqn(BigImageEnv, logger_kwargs=dict(output_dir=str(tmp_path)))
    message = str(err.value)
    assert message.startswith("dqn's replay buffer needs 39.4 GiB for replay_size=1000000, but only 8.0 GiB")
    assert message.count(". ") == 0 and "replay_size (about 101,411 would fit)" in message
