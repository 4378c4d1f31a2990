"""Code anchors of the TD3 pseudocode (docs/algorithms/td3.rst); see README.md beside this file."""

STEPS = {
    1: {"says": "Input", "pytorch": ["td3: ac = actor_critic(", "td3: replay_buffer = ReplayBuffer("]},
    2: {"says": "target parameters", "jax": ['td3: targ_params = jax.tree.map(jnp.copy, params)'], "pytorch": ["td3: ac_targ = deepcopy(ac) ... for p in ac_targ.parameters()"]},
    3: {"says": "repeat", "pytorch": ["td3: for t in range(start_epoch * steps_per_epoch, total_steps)"]},
    4: {"says": "select action", "pytorch": ["td3.get_action", "td3: if t >= start_steps:"]},
    5: {"says": "Execute", "pytorch": [
        "td3: next_o, r, terminated, truncated, _ = env.step(a)",
        "td3: replay_buffer.store(o, a, r, next_o, terminated)",
        "td3: truncated = truncated or ep_len == max_ep_len ... if terminated or truncated:",
    ]},
    6: {"says": "time to update", "pytorch": ["td3: if t >= update_after and t % update_every == 0:"]},
    7: {"says": "Sample a batch", "pytorch": ["td3: batch = replay_buffer.sample_batch(", "ReplayBuffer.sample_batch"]},
    8: {"says": "target actions", "pytorch": ["compute_q_target: pi_targ = ac_targ.pi(o2) ... a2 = "]},
    9: {"says": "Compute targets", "pytorch": ["compute_q_target: q1_pi_targ = ... return ",
                                               "td3.compute_loss_q: backup = compute_q_target("]},
    10: {"says": "both Q-functions", "pytorch": [
        "td3.compute_loss_q: loss_q1 = ... loss_q = ",
        "td3.update: q_optimizer.zero_grad() ... q_optimizer.step()",
    ]},
    11: {"says": "policy_delay", "jax": ['td3.update: timer % policy_delay == 0, update_pi_and_targets,', 'td3.update_pi_and_targets'], "pytorch": ["td3.update: if timer % policy_delay == 0:", "td3: update(data=batch, timer=t + j)"]},
    12: {"says": "policy", "pytorch": ["td3.compute_loss_pi", "td3.update: pi_optimizer.zero_grad() ... pi_optimizer.step()"]},
    13: {"says": "Polyak", "jax": ['td3.update_pi_and_targets: targ_params = core.polyak_update('], "pytorch": ["td3.update: core.polyak_update("]},
    14: {"says": "until", "pytorch": ["td3: for t in range(start_epoch * steps_per_epoch, total_steps)"]},
}
