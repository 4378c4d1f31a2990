"""Code anchors of the DDPG pseudocode (docs/algorithms/ddpg.rst); see README.md beside this file."""

STEPS = {
    1: {"says": "Input", "pytorch": ["ddpg: ac = actor_critic(", "ddpg: replay_buffer = ReplayBuffer("]},
    2: {"says": "target parameters", "jax": ['ddpg: targ_params = jax.tree.map(jnp.copy, params)'], "pytorch": ["ddpg: ac_targ = deepcopy(ac) ... for p in ac_targ.parameters()"]},
    3: {"says": "repeat", "pytorch": ["ddpg: for t in range(start_epoch * steps_per_epoch, total_steps)"]},
    4: {"says": "select action", "pytorch": ["ddpg.get_action", "ddpg: if t >= start_steps:"]},
    5: {"says": "Execute", "pytorch": ["ddpg: next_o, r, terminated, truncated, _ = env.step(a)"]},
    6: {"says": "Store", "pytorch": ["ddpg: replay_buffer.store(o, a, r, next_o, terminated)", "ReplayBuffer.store"]},
    7: {"says": "reset", "pytorch": ["ddpg: truncated = truncated or ep_len == max_ep_len ... if terminated or truncated:"]},
    8: {"says": "time to update", "pytorch": ["ddpg: if t >= update_after and t % update_every == 0:"]},
    9: {"says": "Sample a batch", "pytorch": ["ddpg: batch = replay_buffer.sample_batch(", "ReplayBuffer.sample_batch"]},
    10: {"says": "Compute targets", "pytorch": ["compute_q_target", "ddpg.compute_loss_q: backup = compute_q_target("]},
    11: {"says": "Q-function", "pytorch": [
        "ddpg.compute_loss_q: loss_q = ",
        "ddpg.update: q_optimizer.zero_grad() ... q_optimizer.step()",
    ]},
    12: {"says": "policy", "pytorch": ["ddpg.compute_loss_pi", "ddpg.update: pi_optimizer.zero_grad() ... pi_optimizer.step()"]},
    13: {"says": "target networks", "pytorch": ["ddpg.update: core.polyak_update("]},
    14: {"says": "until", "pytorch": ["ddpg: for t in range(start_epoch * steps_per_epoch, total_steps)"]},
}
