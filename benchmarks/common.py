"""Pieces shared by the benchmark scripts: clocks and recorders on the environment, the machine's
description, a small image task for DQN, and the Stable-Baselines3 side of each comparison.

Both libraries are measured through the same wrappers around the same Gymnasium environment, so a
number on one side is computed exactly as on the other.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Algorithm -> the Stable-Baselines3 class that implements the same algorithm. SB3 has no VPG: A2C is
# the vanilla policy gradient with a learned baseline and GAE, which is what our VPG is.
SB3_CLASS = {
    "vpg": "stable_baselines3.A2C",
    "trpo": "sb3_contrib.TRPO",
    "ppo": "stable_baselines3.PPO",
    "ddpg": "stable_baselines3.DDPG",
    "td3": "stable_baselines3.TD3",
    "sac": "stable_baselines3.SAC",
    "dqn": "stable_baselines3.DQN",
}
OFF_POLICY = ("ddpg", "td3", "sac", "dqn")


# ---------------------------------------------------------------------------------------------
# The environment: the process's first environment is the training one; later ones are test copies.
# ---------------------------------------------------------------------------------------------

class Probe:
    """What the wrappers saw in this process: step times of the training env, test episodes' spans."""

    def __init__(self):
        self.n_envs = 0
        self.n_train = 0  # training sub-environments (more than one under a vector env)
        self.train_steps = 0  # steps taken by all training sub-environments together
        self.step_times: list[float] = []  # perf_counter() after each training-env step
        self.test_spans: list[list[float]] = []  # [start, end] of each test episode
        # (training step at its end, return, length); the step is counted over all training sub-envs,
        # or -1 for a single training env that does not record times (its lengths give the step)
        self.episodes: list[tuple[int, float, int]] = []


PROBE = Probe()


class ProbeWrapper(gym.Wrapper):
    """Records into ``PROBE``: for the first env built in the process (the training env) the time of
    every step and every finished episode; for later envs (an algorithm's test env) the time spans of
    their episodes, so that a speed measurement can leave test episodes out. ``train=True`` marks a
    later env as training too: each sub-env of a vector env is one, and all their episodes count."""

    def __init__(self, env, record_times=True, train=None):
        super().__init__(env)
        self.index = PROBE.n_envs
        PROBE.n_envs += 1
        self.train = self.index == 0 if train is None else train
        PROBE.n_train += int(self.train)
        self.record_times = record_times
        self.ep_ret, self.ep_len = 0.0, 0

    def reset(self, **kwargs):
        if not self.train:
            now = time.perf_counter()
            PROBE.test_spans.append([now, now])
        self.ep_ret, self.ep_len = 0.0, 0
        return self.env.reset(**kwargs)

    def step(self, action):
        out = self.env.step(action)
        if self.train:
            PROBE.train_steps += 1
            if self.record_times:
                PROBE.step_times.append(time.perf_counter())
            self.ep_ret += float(out[1])
            self.ep_len += 1
            if out[2] or out[3]:
                step = len(PROBE.step_times) if self.record_times else PROBE.train_steps if PROBE.n_train > 1 else -1
                PROBE.episodes.append((step, self.ep_ret, self.ep_len))
        elif PROBE.test_spans:
            PROBE.test_spans[-1][1] = time.perf_counter()
        return out


def steady_rate(step_times, test_spans, warmup_steps, end_steps=None):
    """Environment steps per second between training steps ``warmup_steps`` and ``end_steps``.

    The window runs from the return of step ``warmup_steps`` to the return of step ``end_steps``
    (default: the last step), so it holds every update made in it; time spent in test episodes
    inside the window is left out (the training step count does not include them either).
    """
    n = len(step_times)
    end = n if end_steps is None else end_steps
    if not 1 <= warmup_steps < end <= n:
        raise ValueError(f"need 1 <= warmup_steps < end_steps <= {n} training steps, got {warmup_steps}, {end}")
    t0, t1 = step_times[warmup_steps - 1], step_times[end - 1]
    excluded = sum(max(0.0, min(e, t1) - max(s, t0)) for s, e in test_spans)
    return (end - warmup_steps) / (t1 - t0 - excluded)


# ---------------------------------------------------------------------------------------------
# A small image task for DQN, cheap to simulate, so the measurement is about the learner.
# ---------------------------------------------------------------------------------------------

class CatchImage(gym.Env):
    """Catch, drawn as 84x84x1 uint8 frames: a ball falls down a 21x21 grid, the paddle on the bottom
    row moves left, stays or moves right, reward +1 for a catch and -1 for a miss (then terminated).
    Each grid cell is a 4x4 block of pixels, so the frame suits the Nature-DQN convolutions."""

    metadata = {"render_modes": []}
    GRID, CELL = 21, 4

    def __init__(self):
        side = self.GRID * self.CELL
        self.observation_space = gym.spaces.Box(0, 255, (side, side, 1), dtype=np.uint8)
        self.action_space = gym.spaces.Discrete(3)
        self.ball = self.paddle = (0, 0)

    def _frame(self):
        img = np.zeros(self.observation_space.shape, dtype=np.uint8)
        c = self.CELL
        (br, bc), pc = self.ball, self.paddle
        img[br * c:(br + 1) * c, bc * c:(bc + 1) * c] = 255
        img[-c:, max(pc - 1, 0) * c:(pc + 2) * c] = 255
        return img

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.ball = (0, int(self.np_random.integers(self.GRID)))
        self.paddle = self.GRID // 2
        return self._frame(), {}

    def step(self, action):
        self.paddle = int(np.clip(self.paddle + int(action) - 1, 0, self.GRID - 1))
        self.ball = (self.ball[0] + 1, self.ball[1])
        terminated = self.ball[0] == self.GRID - 1
        reward = (1.0 if abs(self.ball[1] - self.paddle) <= 1 else -1.0) if terminated else 0.0
        return self._frame(), reward, terminated, False, {}


if "SpinupBench/CatchImage-v0" not in gym.registry:
    gym.register("SpinupBench/CatchImage-v0", entry_point=CatchImage, max_episode_steps=100)


def make_env(env_id: str, record_times=True, train=None):
    return ProbeWrapper(gym.make(env_id), record_times=record_times, train=train)


# ---------------------------------------------------------------------------------------------
# The machine and the software, printed with every result.
# ---------------------------------------------------------------------------------------------

def _cmd(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=10).stdout.strip()
    except Exception:
        return ""


def machine_info() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        cpu = platform.processor()
    versions = {}
    for mod in ("torch", "gymnasium", "mujoco", "stable_baselines3", "sb3_contrib", "numpy"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:
            versions[mod] = None
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    dirty = _cmd(["git", "status", "--porcelain", "--", "spinup"])
    return dict(
        nproc=os.cpu_count(),
        cpu=cpu,
        python=platform.python_version(),
        platform=platform.platform(),
        commit=_cmd(["git", "rev-parse", "--short", "HEAD"]),
        spinup_modified=bool(dirty),
        versions=versions,
        loadavg=load,
        date=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    )


def machine_lines(info: dict) -> list[str]:
    v = info["versions"]
    load = [] if info.get("loadavg") is None else [f"- Load average at start: {info['loadavg']}"]
    return [
        f"- Machine: {info['nproc']} cores ({info['cpu']}), {info['platform']}",
        f"- Commit: {info['commit']}" + (" (with uncommitted changes under spinup/)" if info["spinup_modified"] else ""),
        f"- Python {info['python']}, torch {v['torch']}, gymnasium {v['gymnasium']}, mujoco {v['mujoco']}, "
        f"stable-baselines3 {v['stable_baselines3']}, sb3-contrib {v['sb3_contrib']}",
        *load,
        f"- Date: {info['date']}",
    ]


def sb3_class(algo: str):
    module, name = SB3_CLASS[algo].rsplit(".", 1)
    return getattr(__import__(module, fromlist=[name]), name)


def run_worker_subprocess(script: str, spec: dict, nice: int = 0, timeout: float | None = None) -> dict:
    """Run ``script --worker SPEC`` in a fresh Python process; return the JSON it prints last."""
    cmd = [sys.executable, script, "--worker", json.dumps(spec)]
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr or proc.stdout)[-2000:]
    return dict(error=f"worker exited with {proc.returncode}: {tail}")
