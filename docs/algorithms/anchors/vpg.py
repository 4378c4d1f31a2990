"""Code anchors of the VPG pseudocode (docs/algorithms/vpg.rst); see README.md beside this file."""

STEPS = {
    1: {"says": "Input", "pytorch": ["vpg: ac = actor_critic(", "vpg: pi_optimizer = Adam(", "vpg: vf_optimizer = Adam("], "jax": ["vpg: ac = actor_critic(", "vpg: pi_optimizer = nnx.Optimizer(", "vpg: vf_optimizer = nnx.Optimizer("]},
    2: {"says": "for", "pytorch": ["vpg: for epoch in range(start_epoch, epochs)"]},
    3: {"says": "Collect", "pytorch": ["vpg: for t in range(local_steps_per_epoch)", "VPGBuffer.store"]},
    4: {"says": "rewards-to-go", "pytorch": ["VPGBuffer.compute_advantages: self.ret_buf[path_slice] ="]},
    5: {"says": "advantage", "pytorch": [
        "VPGBuffer.get: val = ac.v(obs)",
        "VPGBuffer.compute_advantages: deltas =",
        "VPGBuffer.compute_advantages: self.adv_buf[path_slice] =",
        "VPGBuffer.get: self.adv_buf[:] =",
    ], "jax": ["VPGBuffer.get: logp, val = logp_and_v(", "VPGBuffer.compute_advantages: deltas =", "VPGBuffer.compute_advantages: self.adv_buf[path_slice] =", "VPGBuffer.get: self.adv_buf[:] ="]},
    6: {"says": "policy gradient", "pytorch": ["vpg.compute_loss_pi", "vpg.update: loss_pi.backward()",
                                               "vpg.update: mpi_avg_grads(ac.pi)"], "jax": ["vpg.compute_loss_pi", "vpg.update: (loss_pi, pi_info), grads = loss_and_grad_pi(", "vpg.update: grads = mpi_avg_grads(grads)  # each"]},
    7: {"says": "gradient ascent", "pytorch": ["vpg.update: pi_optimizer.step()"], "jax": ["vpg.update: pi_state = step(pi_graph, pi_state, grads)"]},
    8: {"says": "value function", "pytorch": ["vpg.compute_loss_v", "vpg.update: for _ in range(train_v_iters)"]},
    9: {"says": "end for", "pytorch": ["vpg: logger.save_checkpoint(epoch + 1"]},
}
