"""A burst of gradient steps as one compiled loop, for the JAX twins of the off-policy algorithms.

The PyTorch twins learn in bursts::

    for j in range(update_every):
        batch = replay_buffer.sample_batch(batch_size)
        update(data=batch)

The JAX twins draw the same batches, in the same order, on the host, stack them into one pytree
(:func:`stack_batches`), and hand the stack to :func:`scan_updates`'s function, which runs the
same pure ``update`` once per batch inside one ``jax.lax.scan``. The arithmetic of each step is
unchanged; what goes is a Python call, an argument flattening and a dispatch per step, and the
loss values come back stacked, one row per step, to be stored in the logger once per burst.
Pinned to one CPU core, that cut the CPU time of a gradient step by about 1.4x (DDPG), 1.6x
(SAC), 1.7x (TD3) on 256x256 networks, and by about 4x for DQN's small CartPole network, where
the per-step overhead was most of the cost. The state is not donated to the jitted function:
with one call per burst, the copies it would save are a few megabytes every ``update_every``
steps, small beside the burst's arithmetic.

Convolutions are the exception. XLA's CPU backend runs a convolution inside a compiled loop far
more slowly than the same convolution at the top level of a program: one Nature-CNN DQN step
(84x84 frames, batch 100, one core) took 1.83 s inside ``lax.scan`` against 0.16 s as its own
jitted call. For such networks :func:`loop_updates` gives the same burst as a Python loop over
the jitted ``update``, with the same arguments and results, so the caller does not change.
"""

from __future__ import annotations

import jax
import numpy as np


def stack_batches(batches: list[dict]) -> dict:
    """The batches as one dict of arrays with a new leading axis: ``batches[j][k] == out[k][j]``."""
    return {k: np.stack([b[k] for b in batches]) for k in batches[0]}


def scan_updates(update, n_state: int):
    """``update`` run over a burst in one jitted ``lax.scan``.

    ``update(*state, *x) -> (*state, info)`` takes ``n_state`` pytrees of training state
    (parameters, optimiser states, the PRNG key) and then one step's inputs ``x`` (the batch, and
    anything else that changes from step to step), and returns the new state and a dict of loss
    values. The returned function takes the same state and then each input stacked over the
    burst (leading axis: the step), and returns the state after the last step and each loss
    value stacked over the steps.
    """

    def burst(*args):
        state, xs = tuple(args[:n_state]), tuple(args[n_state:])

        def step(state, x):
            *state, info = update(*state, *x)
            return tuple(state), info

        state, infos = jax.lax.scan(step, state, xs)
        return (*state, infos)

    return jax.jit(burst)


def loop_updates(update, n_state: int):
    """The burst of :func:`scan_updates`, with the same arguments and results, as a Python loop
    over the jitted ``update``: one call per step, for networks whose steps run slowly inside a
    compiled loop (convolutions on the CPU)."""
    step = jax.jit(update)

    def burst(*args):
        state, xs = list(args[:n_state]), args[n_state:]
        infos = []
        for j in range(len(jax.tree.leaves(xs)[0])):
            *state, info = step(*state, *jax.tree.map(lambda x: x[j], xs))
            infos.append(info)
        return (*state, jax.tree.map(lambda *values: np.stack(values), *infos))

    return burst
