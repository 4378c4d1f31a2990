"""Code anchors of the PPO pseudocode (docs/algorithms/ppo.rst); see README.md beside this file."""

STEPS = {
    1: {"says": "Input", "pytorch": ["ppo: ac = actor_critic(", "ppo: pi_optimizer = Adam(", "ppo: vf_optimizer = Adam("], "jax": ["ppo: ac = actor_critic(", "ppo: pi_optimizer = nnx.Optimizer(", "ppo: vf_optimizer = nnx.Optimizer("]},
    2: {"says": "for", "pytorch": ["ppo: for epoch in range(start_epoch, epochs)"]},
    3: {"says": "Collect", "pytorch": ["ppo: for t in range(local_steps_per_epoch)", "PPOBuffer.store"]},
    4: {"says": "rewards-to-go", "pytorch": ["PPOBuffer.compute_advantages: self.ret_buf[path_slice] ="]},
    5: {"says": "advantage", "pytorch": [
        "PPOBuffer.get: val = ac.v(obs)",
        "PPOBuffer.compute_advantages: deltas =",
        "PPOBuffer.compute_advantages: self.adv_buf[path_slice] =",
        "PPOBuffer.get: self.adv_buf[:] =",
    ], "jax": ["PPOBuffer.get: logp, val = logp_and_v(", "PPOBuffer.compute_advantages: deltas =", "PPOBuffer.compute_advantages: self.adv_buf[path_slice] =", "PPOBuffer.get: self.adv_buf[:] ="]},
    6: {"says": "PPO-Clip objective", "pytorch": ["ppo.compute_loss_pi", "ppo.update: while pi_steps < train_pi_iters"]},
    7: {"says": "value function", "pytorch": ["ppo.compute_loss_v", "ppo.update: for _ in range(train_v_iters)"]},
    8: {"says": "end for", "pytorch": ["ppo: logger.save_checkpoint(epoch + 1"]},
}
