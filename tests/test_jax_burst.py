"""spinup.utils.jax_burst: a burst of updates, as one lax.scan or as a Python loop, is the same as
calling the update once per batch by hand."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

from spinup.utils.jax_burst import loop_updates, scan_updates, stack_batches  # noqa: E402


def update(w, key, batch):
    """One SGD step of least squares, with a noise draw from the key: state (w, key), one batch."""
    key, sub = jax.random.split(key)
    loss, grad = jax.value_and_grad(lambda w: ((batch["x"] @ w - batch["y"]) ** 2).mean())(w)
    w = w - 0.1 * grad + 1e-3 * jax.random.normal(sub, w.shape)
    return w, key, dict(Loss=loss, W0=w[0])


def _batches(n):
    rng = np.random.default_rng(0)
    return [dict(x=rng.normal(size=(8, 3)).astype(np.float32), y=rng.normal(size=8).astype(np.float32))
            for _ in range(n)]


def test_stack_batches_puts_the_step_first():
    batches = _batches(4)
    stacked = stack_batches(batches)
    assert stacked["x"].shape == (4, 8, 3) and stacked["y"].shape == (4, 8)
    for j, b in enumerate(batches):
        np.testing.assert_array_equal(stacked["x"][j], b["x"])


@pytest.mark.parametrize("make_burst", [scan_updates, loop_updates], ids=["scan", "loop"])
def test_a_burst_equals_the_updates_one_by_one(make_burst):
    batches = _batches(5)
    w, key = jnp.zeros(3), jax.random.key(0)
    losses = []
    for b in batches:  # by hand, the way the PyTorch twins run their bursts
        w, key, info = update(w, key, b)
        losses.append(float(info["Loss"]))
    w_b, key_b, infos = make_burst(update, n_state=2)(jnp.zeros(3), jax.random.key(0), stack_batches(batches))
    np.testing.assert_allclose(np.asarray(w_b), np.asarray(w), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(jax.random.key_data(key_b), jax.random.key_data(key))
    assert np.shape(infos["Loss"]) == (5,) and np.shape(infos["W0"]) == (5,)
    np.testing.assert_allclose(np.asarray(infos["Loss"]), losses, rtol=1e-6)


def test_image_dqn_bursts_loop_in_python_and_vector_dqn_bursts_scan(monkeypatch, tmp_path):
    """On the CPU, DQN with a convolutional network takes loop_updates; with an MLP, scan_updates."""
    import gymnasium as gym

    import spinup.algos.jax.dqn.dqn as jdqn

    chosen = []

    def recording(name):
        real = getattr(jdqn, name)

        def make_burst(update, n_state):
            chosen.append(name)
            return real(update, n_state)

        return make_burst

    for name in ("loop_updates", "scan_updates"):
        monkeypatch.setattr(jdqn, name, recording(name))

    class Image(gym.Env):
        observation_space = gym.spaces.Box(0, 255, (10, 10, 1), np.uint8)
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            return np.zeros((10, 10, 1), np.uint8), {}

        def step(self, action):
            return np.zeros((10, 10, 1), np.uint8), 0.0, False, False, {}

    for env_fn in (Image, lambda: gym.make("CartPole-v1")):
        jdqn.dqn(env_fn, steps_per_epoch=60, epochs=1, update_after=50, update_every=10, batch_size=8,
                 replay_size=100, num_test_episodes=1, max_ep_len=30, logger_kwargs=dict(output_dir=str(tmp_path / str(len(chosen)))))
    assert chosen == ["loop_updates", "scan_updates"]
