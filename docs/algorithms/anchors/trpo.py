"""Code anchors of the TRPO pseudocode (docs/algorithms/trpo.rst); see README.md beside this file."""

STEPS = {
    1: {"says": "Input", "pytorch": ["trpo: ac = actor_critic(", "trpo: vf_optimizer = Adam("], "jax": ["trpo: ac = actor_critic(", "trpo: vf_optimizer = nnx.Optimizer("]},
    2: {"says": "for", "pytorch": ["trpo: for epoch in range(start_epoch, epochs)"]},
    3: {"says": "Collect", "pytorch": ["trpo: for t in range(local_steps_per_epoch)", "TRPOBuffer.store"]},
    4: {"says": "rewards-to-go", "pytorch": ["TRPOBuffer.compute_advantages: self.ret_buf[path_slice] ="]},
    5: {"says": "advantage", "pytorch": [
        "TRPOBuffer.get: val = ac.v(obs)",
        "TRPOBuffer.compute_advantages: deltas =",
        "TRPOBuffer.compute_advantages: self.adv_buf[path_slice] =",
        "TRPOBuffer.get: self.adv_buf[:] =",
    ], "jax": ["TRPOBuffer.get: logp, val = logp_and_v(", "TRPOBuffer.compute_advantages: deltas =", "TRPOBuffer.compute_advantages: self.adv_buf[path_slice] =", "TRPOBuffer.get: self.adv_buf[:] ="]},
    6: {"says": "policy gradient", "pytorch": ["trpo.compute_loss_pi", "trpo.update: g = torch.as_tensor("],
        "jax": ["trpo.compute_loss_pi", "trpo.loss_and_grad_pi", "trpo.update: g = jnp.asarray("]},
    7: {"says": "conjugate gradient", "pytorch": [
        "trpo.compute_kl",
        "trpo.update: grad_kl = core.flat_grad(",
        "trpo.update.Hx",
        "trpo.update: x = core.conjugate_gradient(",
    ], "jax": ["trpo.compute_kl", "trpo.kl_hvp", "trpo.update.Hx", "trpo.update: x = core.conjugate_gradient("]},
    8: {"says": "backtracking line search", "pytorch": [
        "trpo.update: alpha = torch.sqrt(",
        "trpo.update.set_and_eval",
        "trpo.update: if algo == \"npg\":",
    ], "jax": ["trpo.update: alpha = jnp.sqrt(", "trpo.update.set_and_eval", "trpo.update: if algo == \"npg\":"]},
    9: {"says": "value function", "pytorch": ["trpo.compute_loss_v", "trpo.update: for _ in range(train_v_iters)"]},
    10: {"says": "end for", "pytorch": ["trpo: logger.save_checkpoint(epoch + 1"]},
}
