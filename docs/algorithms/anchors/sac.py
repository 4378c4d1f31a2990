"""Code anchors of the SAC pseudocode (docs/algorithms/sac.rst); see README.md beside this file."""

STEPS = {
    1: {"says": "Input", "pytorch": ["sac: ac = actor_critic(", "sac: replay_buffer = ReplayBuffer("]},
    2: {"says": "target parameters", "jax": ['sac: targ_params = jax.tree.map(jnp.copy, params)'], "pytorch": ["sac: ac_targ = deepcopy(ac) ... for p in ac_targ.parameters()"]},
    3: {"says": "repeat", "pytorch": ["sac: for t in range(start_epoch * steps_per_epoch, total_steps)"]},
    4: {"says": "select action", "pytorch": ["sac.get_action", "sac: if t >= start_steps:"]},
    5: {"says": "Execute", "pytorch": [
        "sac: next_o, r, terminated, truncated, _ = env.step(a)",
        "sac: replay_buffer.store(o, a, r, next_o, terminated)",
        "sac: truncated = truncated or ep_len == max_ep_len ... if terminated or truncated:",
    ]},
    6: {"says": "time to update", "pytorch": ["sac: if t >= update_after and t % update_every == 0:"]},
    7: {"says": "Sample a batch", "pytorch": ["sac: batch = replay_buffer.sample_batch(", "ReplayBuffer.sample_batch"]},
    8: {"says": "Compute targets", "pytorch": ["compute_q_target", "sac.compute_loss_q: backup = compute_q_target("]},
    9: {"says": "both Q-functions", "pytorch": [
        "sac.compute_loss_q: loss_q1 = ... loss_q = ",
        "sac.update: q_optimizer.zero_grad() ... q_optimizer.step()",
    ]},
    10: {"says": "policy", "pytorch": ["sac.compute_loss_pi", "sac.update: pi_optimizer.zero_grad() ... pi_optimizer.step()"]},
    11: {"says": "alpha", "pytorch": ["sac.compute_loss_alpha", "sac.update: if learn_alpha:"]},
    12: {"says": "target networks", "pytorch": ["sac.update: core.polyak_update("]},
    13: {"says": "until", "pytorch": ["sac: for t in range(start_epoch * steps_per_epoch, total_steps)"]},
}
