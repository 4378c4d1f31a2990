"""Video of a policy: render episodes off-screen and write an mp4 (the ``video`` extra)."""

from __future__ import annotations

import os

import numpy as np
import torch

from spinup.utils.checks import UserError, check, check_positive_ints

# MuJoCo renders off-screen through EGL (a GPU or Mesa) unless told otherwise; OSMesa is the
# software fallback. Must be set before mujoco is first imported.
os.environ.setdefault("MUJOCO_GL", "egl")
# Classic-control tasks draw with pygame; with no screen, SDL's dummy driver draws off-screen.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def _writer(path: str, fps: int, size):
    try:
        import imageio_ffmpeg
    except ImportError:
        raise UserError('Writing video needs imageio-ffmpeg; run `pip install "spinup[video]"`.') from None
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    writer = imageio_ffmpeg.write_frames(path, size, fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         macro_block_size=1, quality=7)
    writer.send(None)  # start the generator
    return writer


def render_frame(env) -> np.ndarray:
    frame = env.render()
    check(isinstance(frame, np.ndarray) and frame.ndim == 3,
          "The environment returned no image; it must be made with render_mode='rgb_array' to record video.")
    return frame


def record_video(env, get_action, path: str, num_episodes: int = 1, max_ep_len: int | None = None,
                 fps: int | None = None, seed: int | None = None) -> dict:
    """Run ``num_episodes`` episodes in ``env`` (made with ``render_mode='rgb_array'``), write an mp4.

    Returns a summary: the number of frames written and each episode's return.
    """
    check_positive_ints(num_episodes=num_episodes)
    fps = fps or int(env.metadata.get("render_fps", 30))
    o, _ = env.reset(seed=seed)
    first = render_frame(env)
    height, width = first.shape[:2]
    writer = _writer(path, fps, (width, height))
    frames, returns = 0, []
    try:
        writer.send(np.ascontiguousarray(first[..., :3]))
        frames += 1
        for _ in range(num_episodes):
            ep_ret, ep_len, done = 0.0, 0, False
            while not done:
                o, r, terminated, truncated, _ = env.step(get_action(o))
                ep_ret += float(r)
                ep_len += 1
                done = terminated or truncated or bool(max_ep_len and ep_len >= max_ep_len)
                writer.send(np.ascontiguousarray(render_frame(env)[..., :3]))
                frames += 1
            returns.append(ep_ret)
            o, _ = env.reset()
    finally:
        writer.close()
    return dict(path=path, frames=frames, returns=returns)


def video_in_fresh_env(model_env, get_action, path: str, num_episodes: int = 1, max_ep_len: int = 1000,
                       seed: int = 0) -> dict | None:
    """Record ``get_action`` in a fresh copy of ``model_env`` rebuilt from its id, made to render
    off-screen and flattened as training flattened it; for either framework's policy.

    Returns ``None`` (and records nothing) for environments without an id.
    """
    from spinup.utils.envs import env_record, flatten_observations, make_env_by_id

    record = env_record(model_env)
    if not record:
        return None
    env = make_env_by_id(record["env_id"], dict(record["env_kwargs"], render_mode="rgb_array"))
    if model_env.observation_space.shape != env.observation_space.shape:
        env = flatten_observations(env)
    try:
        return record_video(env, get_action, path, num_episodes, max_ep_len, seed=seed)
    finally:
        env.close()


def policy_video(ac: torch.nn.Module, model_env, path: str, num_episodes: int = 1, max_ep_len: int = 1000,
                 seed: int = 0) -> dict | None:
    """Record the deterministic policy ``ac`` in a fresh copy of ``model_env`` (rebuilt from its id).

    Used during training; returns ``None`` (and records nothing) for environments without an id.
    """
    device = next(ac.parameters()).device

    def get_action(o):
        return ac.act(torch.as_tensor(np.asarray(o), dtype=torch.float32, device=device), deterministic=True)

    return video_in_fresh_env(model_env, get_action, path, num_episodes, max_ep_len, seed)
