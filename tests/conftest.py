"""Shared fixtures: tiny scripted environments whose every step is known in advance."""

import os

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

# Open MPI refuses to run as root without these; CI runs as root.
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


# `make test` spreads the suite over the machine's cores (pytest-xdist, --dist loadgroup). Each test
# file stays on one worker, so a file's tests share its module fixtures as in a plain run; the two
# docs files share one worker and so one build of the site.
_SHARED_GROUPS = {"test_docs.py": "docs", "test_docs_browser.py": "docs"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.path.name
        item.add_marker(pytest.mark.xdist_group(_SHARED_GROUPS.get(name, name)))


class ScriptedEnv(gym.Env):
    """Reward 1 per step; episodes alternate between ending by termination and by truncation.

    Observation: [step in episode, episode index, 1]. Episode k (from 0) lasts ``length`` steps and
    ends with terminated=True when k is even, truncated=True when k is odd.
    """

    def __init__(self, length=3, continuous=False):
        self.length = length
        self.observation_space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.action_space = spaces.Box(-1, 1, (1,), np.float32) if continuous else spaces.Discrete(2)
        self.episode = -1
        self.t = 0

    def _obs(self):
        return np.array([self.t, self.episode, 1.0], dtype=np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        done = self.t >= self.length
        terminated = done and self.episode % 2 == 0
        truncated = done and self.episode % 2 == 1
        return self._obs(), 1.0, terminated, truncated, {}


class EndlessEnv(gym.Env):
    """Never ends by itself: the observation is the step count, the reward 0. ``ends_at`` makes it
    terminate at that step, as MinAtar Freeway's own timer does."""

    observation_space = spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, ends_at=None):
        self.ends_at = ends_at

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(1, self.t, np.float32), 0.0, self.t == self.ends_at, False, {}


@pytest.fixture
def scripted_env():
    return ScriptedEnv


@pytest.fixture
def recorded_buffers(monkeypatch):
    """``recorded_buffers(module)`` returns a list that every ``module.ReplayBuffer`` built from then
    on (for the rest of the test) is appended to."""

    def record(module):
        buffers = []

        class RecordingBuffer(module.ReplayBuffer):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                buffers.append(self)

        monkeypatch.setattr(module, "ReplayBuffer", RecordingBuffer)
        return buffers

    return record


@pytest.fixture
def tmp_out(tmp_path):
    return dict(output_dir=str(tmp_path / "run"), exp_name="run")
