"""Code anchors of the DQN pseudocode (docs/algorithms/dqn.rst); see README.md beside this file."""

STEPS = {
    1: {"says": "Input", "pytorch": ["dqn: ac = actor_critic(", "dqn: replay_buffer = ReplayBuffer("]},
    2: {"says": "target parameters", "jax": ['dqn: targ_params = jax.tree.map(jnp.copy, params)'], "pytorch": ["dqn: ac_targ = deepcopy(ac) ... for p in ac_targ.parameters()"]},
    3: {"says": "for", "pytorch": ["dqn: for t in range(start_epoch * steps_per_epoch, total_steps)"]},
    4: {"says": "linear schedule", "pytorch": ["dqn.epsilon_at", "dqn.get_action", "dqn: epsilon = epsilon_at(t) ... a = get_action("]},
    5: {"says": "Execute", "pytorch": [
        "dqn: next_o, r, terminated, truncated, _ = env.step(a)",
        "dqn: replay_buffer.store(o, a - act_start, r, next_o, terminated)",
        "dqn: truncated = truncated or ep_len == max_ep_len ... if terminated or truncated:",
    ]},
    6: {"says": "time to update", "pytorch": ["dqn: if t >= update_after and t % update_every == 0:"]},
    7: {"says": "Sample a batch", "pytorch": ["dqn: batch = replay_buffer.sample_batch(", "ReplayBuffer.sample_batch"]},
    8: {"says": "Double DQN", "pytorch": ["compute_q_target", "dqn.compute_loss_q: backup = compute_q_target("]},
    9: {"says": "Q-function", "jax": ['dqn.compute_loss_q: loss_q = optax.huber_loss(', 'dqn.update: updates, q_opt_state = q_optimizer.update('], "pytorch": [
        "dqn.compute_loss_q: loss_q = F.huber_loss(",
        "dqn.update: q_optimizer.zero_grad() ... q_optimizer.step()",
    ]},
    10: {"says": "target_update_every", "pytorch": ["dqn: if polyak is None and t % target_update_every == 0:",
                                                    "dqn.update: if polyak is not None:"]},
    11: {"says": "end for", "pytorch": ["dqn: for t in range(start_epoch * steps_per_epoch, total_steps)"]},
}
