"""Load a saved policy and its environment, and watch or evaluate it."""

from __future__ import annotations

import argparse
import glob
import json
import os
import os.path as osp
import re

import numpy as np
import torch

from spinup.utils.checks import check, check_nonnegative_ints, check_positive_ints
from spinup.utils.serialization_utils import dict_to_space, rebuild_model, safe_torch_load


def _model_path(fpath: str, itr) -> str:
    check(osp.isdir(fpath), f"{fpath} is not a directory; pass a run directory such as data/exp/exp_s0.")
    save_dir = osp.join(fpath, "pyt_save")
    models = glob.glob(osp.join(save_dir, "model*.pt"))
    check(
        len(models) > 0,
        f"{fpath} holds no saved policy (no pyt_save/model*.pt); pass the directory of a run that saved "
        "at least once, such as data/exp/exp_s0.",
    )
    if itr in ("last", None, -1):
        if osp.exists(osp.join(save_dir, "model.pt")):
            return osp.join(save_dir, "model.pt")
        numbered = [re.fullmatch(r"model(\d+)\.pt", osp.basename(p)) for p in models]
        numbered = [int(m.group(1)) for m in numbered if m]
        return osp.join(save_dir, "model%d.pt" % max(numbered))
    path = osp.join(save_dir, "model%d.pt" % int(itr))
    check(osp.exists(path), f"{fpath} has no policy saved at iteration {itr}; found: "
          + ", ".join(sorted(osp.basename(m) for m in models)) + ".")
    return path


def load_policy_and_env(fpath, itr="last", deterministic=False, render_mode=None):
    """Rebuild a trained policy and its environment from a run directory.

    Args:
        fpath: The run directory (it holds ``progress.txt``, ``config.json``, ``pyt_save/``).
        itr: ``'last'`` for the most recent save, or the iteration number of a numbered save.
        deterministic: Act with the policy's mode (the mean for a Gaussian) instead of sampling.
        render_mode: Passed to ``gymnasium.make`` (``'human'`` to watch, ``'rgb_array'`` for video).

    Returns:
        ``(env, get_action)``: the environment rebuilt from its registered id (``None`` if the run
        used an environment without an id), and a function from one observation to one action.
    """
    if osp.isdir(fpath) and not glob.glob(osp.join(fpath, "pyt_save", "model*.pt")) \
            and glob.glob(osp.join(fpath, "jax_save", "model*.npz")):  # a run of a JAX twin
        from spinup.utils import jax_saver

        return jax_saver.load_policy_and_env(fpath, itr, deterministic, render_mode)
    record = safe_torch_load(_model_path(fpath, itr))
    check(
        isinstance(record, dict) and record.get("format") == "spinup-model-1",
        f"{fpath} holds a model file spinup did not write; it cannot be loaded safely.",
    )
    ac = rebuild_model(record)
    ac.eval()
    env = _rebuild_env(fpath, record, render_mode)
    to_env = _env_action_maker(dict_to_space(record["action_space"]))

    def get_action(o):
        return to_env(ac.act(torch.as_tensor(np.asarray(o), dtype=torch.float32), deterministic=deterministic))

    return env, get_action


def _env_action_maker(action_space):
    """What training does between the network's action and ``env.step``, so both see the same.

    A Box action is clipped to the bounds (a Gaussian sample can fall outside them, and an
    environment that charges for large actions would otherwise score the policy lower than
    training did). A discrete action leaves the network as an index 0..n-1 and is shifted by
    the space's ``start``. For networks that already act inside the bounds, the clip changes
    nothing.
    """
    from gymnasium import spaces

    if isinstance(action_space, spaces.Box):
        return lambda a: np.clip(a, action_space.low, action_space.high)
    if isinstance(action_space, spaces.Discrete):
        return lambda a: int(a) + int(action_space.start)
    return lambda a: a


def _rebuild_env(fpath, record, render_mode):
    from gymnasium.spaces import Box

    from spinup.utils.envs import flatten_observations, make_env_by_id

    env_id, env_kwargs = record.get("env_id"), dict(record.get("env_kwargs") or {})
    if env_id is None:
        config_path = osp.join(fpath, "config.json")
        if osp.exists(config_path):
            with open(config_path) as f:
                env_id = json.load(f).get("env_name")
    if env_id is None:
        return None
    if render_mode is not None:
        env_kwargs["render_mode"] = render_mode
    env = make_env_by_id(env_id, env_kwargs)
    # Training flattened observations that were not already a vector (see setup_env); do the same.
    saved = dict_to_space(record["observation_space"])  # either framework's record
    if isinstance(saved, Box) and len(saved.shape) == 1:
        env = flatten_observations(env)
    return env


def run_policy(env, get_action, max_ep_len=None, num_episodes=100, render=True, seed=None):
    """Run ``num_episodes`` episodes of ``get_action`` in ``env``, print and return their returns.

    An episode ends when the environment terminates or truncates it, or after ``max_ep_len``
    steps when that is given (0 or ``None``: no extra limit).
    """
    check(env is not None, "There is no environment to run in: the run used an environment without a "
          "registered id, so build it yourself and pass it to run_policy.")
    check_positive_ints(num_episodes=num_episodes)
    if max_ep_len:
        check_nonnegative_ints(max_ep_len=max_ep_len)
    returns, lengths = [], []
    o, _ = env.reset(seed=seed)
    ep_ret, ep_len = 0.0, 0
    while len(returns) < num_episodes:
        if render:
            env.render()
        o, r, terminated, truncated, _ = env.step(get_action(o))
        ep_ret += float(r)
        ep_len += 1
        if terminated or truncated or (max_ep_len and ep_len >= max_ep_len):
            print("Episode %d \t EpRet %.3f \t EpLen %d" % (len(returns), ep_ret, ep_len), flush=True)
            returns.append(ep_ret)
            lengths.append(ep_len)
            o, _ = env.reset()
            ep_ret, ep_len = 0.0, 0
    print("AverageEpRet %.3f \t StdEpRet %.3f \t AverageEpLen %.1f" % (np.mean(returns), np.std(returns), np.mean(lengths)))
    return returns


def _can_show_window() -> bool:
    return os.name == "nt" or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="spinup test_policy", description="Run a saved policy in its environment.")
    parser.add_argument("fpath", type=str, help="run directory, e.g. data/exp/exp_s0")
    parser.add_argument("--len", "-l", type=int, default=0, help="extra cap on episode length (0: none)")
    parser.add_argument("--episodes", "-n", type=int, default=100)
    parser.add_argument("--norender", "-nr", action="store_true")
    parser.add_argument("--itr", "-i", type=int, default=-1, help="which numbered save to load (-1: last)")
    parser.add_argument("--deterministic", "-d", action="store_true")
    parser.add_argument("--video", type=str, default=None, metavar="OUT.mp4",
                        help="render the episodes off-screen into this mp4 instead of a window")
    args = parser.parse_args(argv)
    check_positive_ints(episodes=args.episodes)
    check_nonnegative_ints(len=args.len)
    check(args.itr >= -1, f"--itr takes the number of a numbered save, or -1 for the last one, not {args.itr}.")
    if args.video:
        from spinup.utils.video import record_video

        env, get_action = load_policy_and_env(args.fpath, "last" if args.itr < 0 else args.itr, args.deterministic,
                                              render_mode="rgb_array")
        check(env is not None, "The run used an environment without a registered id, so it cannot be rebuilt here.")
        result = record_video(env, get_action, args.video, args.episodes, args.len or None)
        print(f"Wrote {result['frames']} frames of {args.episodes} episode(s) to {args.video}; returns: "
              + ", ".join("%.1f" % r for r in result["returns"]))
        return 0
    render = not args.norender
    if render and not _can_show_window():
        print("No display found: running without rendering (pass --norender to silence this).")
        render = False
    env, get_action = load_policy_and_env(args.fpath, "last" if args.itr < 0 else args.itr, args.deterministic,
                                          render_mode="human" if render else None)
    run_policy(env, get_action, args.len, args.episodes, render=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
