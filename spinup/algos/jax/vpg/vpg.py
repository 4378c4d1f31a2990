"""Vanilla Policy Gradient with GAE-Lambda advantages and a learned value baseline, in JAX."""

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import spinup.algos.jax.vpg.core as core
from spinup.utils.checks import check_nonnegative_ints, check_positive_ints, check_positive_numbers, check_seed, check_unit_interval
from spinup.utils.envs import setup_env
from spinup.utils.logx import EpochLogger
from spinup.utils.mpi_jax import mpi_avg_grads, setup_jax_for_mpi, sync_module
from spinup.utils.mpi_tools import mpi_fork, mpi_statistics_scalar, num_procs, proc_id


class VPGBuffer:
    """Stores one epoch of interaction and computes GAE-Lambda advantages and returns-to-go.

    Acting needs only an action, so the loop stores (s_t, a_t, r_t) and nothing the networks
    compute. At the end of the epoch ``get`` evaluates V(s_t) and log pi(a_t|s_t) for the whole
    batch in one forward pass each: the policy has not changed while it collected the batch, so
    these are the values and log-probabilities the pseudocode asks for, at a fraction of the cost
    of a forward pass per step.
    """

    def __init__(self, obs_dim, act_dim, size, gamma=0.99, lam=0.95):
        self.obs_buf = np.zeros(core.combined_shape(size, obs_dim), dtype=np.float32)
        self.act_buf = np.zeros(core.combined_shape(size, act_dim), dtype=np.float32)
        self.adv_buf = np.zeros(size, dtype=np.float32)
        self.rew_buf = np.zeros(size, dtype=np.float32)
        self.ret_buf = np.zeros(size, dtype=np.float32)
        self.gamma, self.lam = gamma, lam
        self.ptr, self.path_start_idx, self.max_size = 0, 0, size
        self.paths = []  # (slice of the buffer, V of the observation after its last step) per trajectory

    def store(self, obs, act, rew):
        """Record one step: the observation acted on, the action sampled and the reward."""
        assert self.ptr < self.max_size, "the buffer is full: call get() once per epoch"
        self.obs_buf[self.ptr] = obs
        self.act_buf[self.ptr] = act
        self.rew_buf[self.ptr] = rew
        self.ptr += 1

    def finish_path(self, last_val=0):
        """Close the current trajectory; its advantages are computed by ``get``.

        ``last_val`` is V(s_T) of the observation after the last step: 0 when the episode
        terminated (no future reward), the critic's estimate when it was cut off by a time limit
        or by the end of the epoch, so the missing tail of the return is bootstrapped.
        """
        self.paths.append((slice(self.path_start_idx, self.ptr), float(last_val)))
        self.path_start_idx = self.ptr

    def compute_advantages(self, path_slice, vals, last_val):
        """GAE-Lambda advantages and rewards-to-go of one trajectory, given V(s_t) along it."""
        rews = np.append(self.rew_buf[path_slice], last_val)
        vals = np.append(vals, last_val)

        # TD errors delta_t = r_t + gamma V(s_t+1) - V(s_t); their (gamma lambda)-discounted sums
        # from t onward are the GAE advantages.
        deltas = rews[:-1] + self.gamma * vals[1:] - vals[:-1]
        self.adv_buf[path_slice] = core.discount_cumsum(deltas, self.gamma * self.lam)

        # The critic's regression targets: discounted rewards-to-go, with last_val standing in
        # for whatever reward a cut-off trajectory would still have collected.
        self.ret_buf[path_slice] = core.discount_cumsum(rews, self.gamma)[:-1]

    def get(self, ac):
        """Return the epoch's data as JAX arrays, advantages normalised, and empty the buffer.

        ``ac`` is the actor-critic that collected the epoch: V and log pi of every step come
        from it, in one batched pass.
        """
        assert self.ptr == self.max_size, "get() is called once the buffer is full"
        obs, act = jnp.asarray(self.obs_buf), jnp.asarray(self.act_buf)
        logp, val = logp_and_v(ac, obs, act)  # nothing outside jax.grad is differentiated: no no_grad
        val = np.asarray(val)
        for path_slice, last_val in self.paths:
            self.compute_advantages(path_slice, val[path_slice], last_val)
        self.ptr, self.path_start_idx, self.paths = 0, 0, []
        # Mean 0 and std 1 over the whole batch, all MPI processes together, so the step size
        # does not depend on the scale of the rewards.
        adv_mean, adv_std = mpi_statistics_scalar(self.adv_buf)
        # in place: the buffer stays float32 (a new array would be float64, as adv_mean is)
        self.adv_buf[:] = (self.adv_buf - adv_mean) / (adv_std + 1e-8)
        data = dict(obs=obs, act=act, ret=self.ret_buf, adv=self.adv_buf, logp=logp, val=val)
        return {k: jnp.asarray(v, dtype=jnp.float32) for k, v in data.items()}


@nnx.jit  # once per epoch, so nnx.jit's cost per call does not matter
def logp_and_v(ac, obs, act):
    _, logp = ac.pi(obs, act)
    return logp, ac.v(obs)


def vpg(
    env_fn,
    actor_critic=core.MLPActorCritic,
    ac_kwargs=dict(),
    seed=0,
    steps_per_epoch=4000,
    epochs=50,
    gamma=0.99,
    pi_lr=3e-4,
    vf_lr=1e-3,
    train_v_iters=80,
    lam=0.97,
    max_ep_len=1000,
    logger_kwargs=dict(),
    save_freq=10,
    resume=None,
):
    """Train a policy with the vanilla policy gradient: one Adam step per batch on log pi times A.

    Every epoch collects ``steps_per_epoch`` steps with the current policy, computes GAE-Lambda
    advantages, and takes a single gradient step on the policy. One step only, because the
    gradient estimate holds at the policy that collected the data and nowhere else; PPO and TRPO
    are ways of safely going further with the same batch. The value function is fitted to the
    rewards-to-go afterwards and serves as the baseline of the next epoch's advantages.

    The actor-critic contract:
        ``actor_critic(observation_space, action_space, **ac_kwargs, rngs=rngs)`` returns a Flax
        ``nnx.Module`` ``ac`` with the three members below, its initial weights drawn from
        ``rngs`` (an ``nnx.Rngs``). ``B`` is a batch size, observations are float32 arrays of
        shape (B, obs_dim), and a single observation of shape (obs_dim,) works too.

        - ``ac.pi(obs, act=None) -> (dist, logp_a)``: ``dist`` is a distribution of ``core``
          (a pytree) holding B action distributions; ``logp_a`` (B,) is log pi(act|obs) for the
          actions ``act`` (B, act_dim), or (B,) of indices for discrete actions, and ``None``
          when no actions are passed.
        - ``ac.v(obs) -> v``: value estimates of shape (B,). Squeeze the network's last axis:
          a (B, 1) tensor minus returns of shape (B,) broadcasts to (B, B) without any error.
        - ``ac.act(obs, key=key) -> a``: an action sampled with the PRNG ``key``, (act_dim,) for
          one observation or (B, act_dim); an index for discrete actions. The loop acts through this alone and
          gets V and log pi of the whole epoch from ``pi`` and ``v`` in one pass at its end.

        Observations reach ``ac`` as the environment gives them, cast to float32. The default
        networks scale uint8 ones (pixels, RAM bytes) by 1/255 themselves; the sampled action of
        a ``Discrete(n, start=k)`` space is an index 0..n-1, which the loop shifts by k.

    Args:
        env_fn (callable): Takes no arguments and returns the Gymnasium environment to train in:
            ``reset`` gives ``(obs, info)`` and ``step`` gives ``(obs, rew, terminated, truncated,
            info)``.
        actor_critic (callable): Builds ``ac`` from the environment's two spaces, as set out in
            the contract above. The default is ``core.MLPActorCritic``.
        ac_kwargs (dict): Extra keyword arguments for ``actor_critic``; the default networks take
            ``hidden_sizes`` and ``activation``.
        seed (int): Seeds JAX's PRNG keys, NumPy and the environment. MPI process k adds 10000 * k, so the
            workers gather different experience.
        steps_per_epoch (int): Environment steps per epoch for all MPI processes together; each of
            N processes takes ``steps_per_epoch // N``. They form one batch for the update.
        epochs (int): Rounds of collecting a batch and updating on it.
        gamma (float): Discount factor in [0, 1]: what a reward one step later is worth compared
            with the same reward now.
        pi_lr (float): Adam's step size for the policy, which takes one step per epoch.
        vf_lr (float): Adam's step size for the value function.
        train_v_iters (int): Adam steps on the value loss every epoch, all of them every time
            (0 leaves the value function as it was initialised).
        lam (float): The lambda of GAE-Lambda, in [0, 1]. Small values lean on the critic (less
            variance, more bias); 1 uses the whole discounted return minus V(s_t).
        max_ep_len (int): A step limit per episode, on top of any the environment sets. Reaching
            it counts as a truncation: the unfinished return is bootstrapped from V.
        logger_kwargs (dict): Keyword arguments for ``EpochLogger`` (``output_dir``, ``exp_name``).
        save_freq (int): Every this many epochs, and after the last one, ``jax_save/model.npz``
            is rewritten with the networks as that epoch's update left them, and a checkpoint to
            resume from is written.
        resume (str): The directory of an earlier run of the same arguments. Training continues
            from its newest checkpoint; on as many processes as wrote it, the result matches an
            uninterrupted run.
    """
    check_positive_ints(steps_per_epoch=steps_per_epoch, epochs=epochs,
                        max_ep_len=max_ep_len, save_freq=save_freq)
    check_nonnegative_ints(train_v_iters=train_v_iters)
    check_unit_interval(gamma=gamma, lam=lam)
    check_positive_numbers(pi_lr=pi_lr, vf_lr=vf_lr)
    check_seed(seed)

    # One XLA thread per process: the networks are small, and threads competing for shared cores
    # cost more than they gain.
    setup_jax_for_mpi()

    logger = EpochLogger(**logger_kwargs, resume=resume)
    logger.save_config(locals())

    seed += 10000 * proc_id()
    # No global generator: every random draw takes a key, split from this one.
    init_key, act_key = jax.random.split(jax.random.key(seed))
    np.random.seed(seed)

    env = setup_env(env_fn, "vpg")
    ac = actor_critic(env.observation_space, env.action_space, **ac_kwargs, rngs=nnx.Rngs(init_key))
    sync_module(ac)  # every process starts from rank 0's weights
    logger.log(f"\nNumber of parameters: pi {core.count_vars(ac.pi)}, v {core.count_vars(ac.v)}\n")

    local_steps_per_epoch = steps_per_epoch // num_procs()
    buf = VPGBuffer(env.observation_space.shape, env.action_space.shape, local_steps_per_epoch, gamma, lam)

    # Minus the mean of log pi(a|s) A(s, a) (Adam minimises): its gradient is the policy gradient.
    # A pure function of the policy network, so jax.grad can differentiate it.
    def compute_loss_pi(pi_net, data):
        obs, act, adv, logp_old = data["obs"], data["act"], data["adv"], data["logp"]

        pi, logp = pi_net(obs, act)
        loss_pi = -(logp * adv).mean()

        # The sample mean of log pi_old - log pi estimates KL(pi_old || pi) on the batch's states.
        approx_kl = (logp_old - logp).mean()
        ent = pi.entropy().mean()
        pi_info = dict(kl=approx_kl, ent=ent)

        return loss_pi, pi_info

    # Mean squared error between V(s_t) and the rewards-to-go.
    def compute_loss_v(v_net, data):
        obs, ret = data["obs"], data["ret"]
        return ((v_net(obs) - ret) ** 2).mean()

    pi_optimizer = nnx.Optimizer(ac.pi, optax.adam(pi_lr), wrt=nnx.Param)  # optax's eps is torch's 1e-8
    vf_optimizer = nnx.Optimizer(ac.v, optax.adam(vf_lr), wrt=nnx.Param)

    # The update's steps are pure functions of a (network, optimiser) pair's state, jitted:
    # update() takes the state out with nnx.state, threads it through them and writes it back
    # with nnx.update, so between the two only arrays move. Gradients come back to the host
    # between the gradient and the step, to be averaged over the MPI processes.
    pi_graph, v_graph = nnx.graphdef((ac.pi, pi_optimizer)), nnx.graphdef((ac.v, vf_optimizer))

    @jax.jit
    def loss_and_grad_pi(pi_state, data):
        return nnx.value_and_grad(compute_loss_pi, has_aux=True)(nnx.merge(pi_graph, pi_state)[0], data)

    @jax.jit
    def loss_and_grad_v(v_state, data):
        return nnx.value_and_grad(compute_loss_v)(nnx.merge(v_graph, v_state)[0], data)

    @functools.partial(jax.jit, static_argnums=0)
    def step(graph, state, grads):
        net, optimizer = nnx.merge(graph, state)
        optimizer.update(net, grads)
        return nnx.state((net, optimizer))

    # Acting is a pure function of the network's state and a key, jitted once; it returns the
    # next key, so the key is threaded through the loop rather than held in a global.
    ac_graph = nnx.graphdef(ac)

    @jax.jit
    def act(ac_state, obs, key):
        key, subkey = jax.random.split(key)
        return nnx.merge(ac_graph, ac_state).act(obs, key=subkey), key

    @jax.jit
    def value(ac_state, obs):
        return nnx.merge(ac_graph, ac_state).v(obs)

    # model.npz holds the networks alone (for test_policy); a checkpoint holds all a resume needs.
    logger.setup_jax_saver(ac, env=env, ac_kwargs=ac_kwargs)
    logger.setup_checkpoint(env=env, ac=ac, pi_optimizer=pi_optimizer, vf_optimizer=vf_optimizer)

    def update():
        data = buf.get(ac)
        logger.store(VVals=data["val"])

        pi_state, v_state = nnx.state((ac.pi, pi_optimizer)), nnx.state((ac.v, vf_optimizer))
        (pi_l_old, pi_info_old), _ = loss_and_grad_pi(pi_state, data)
        pi_l_old = pi_l_old.item()
        v_l_old = loss_and_grad_v(v_state, data)[0].item()

        # One step: the gradient was estimated at this policy, and only there is it right.
        (loss_pi, pi_info), grads = loss_and_grad_pi(pi_state, data)
        grads = mpi_avg_grads(grads)  # each process's gradient is the mean over all processes' data
        pi_state = step(pi_graph, pi_state, grads)
        # KL and the loss change describe the policy this update leaves
        (loss_pi, pi_info), _ = loss_and_grad_pi(pi_state, data)

        for _ in range(train_v_iters):
            _, grads = loss_and_grad_v(v_state, data)
            grads = mpi_avg_grads(grads)
            v_state = step(v_graph, v_state, grads)
        # after the steps, and still defined when there are none
        loss_v, _ = loss_and_grad_v(v_state, data)
        nnx.update((ac.pi, pi_optimizer), pi_state)
        nnx.update((ac.v, vf_optimizer), v_state)

        kl, ent = pi_info["kl"].item(), pi_info_old["ent"].item()
        logger.store(LossPi=pi_l_old, LossV=v_l_old, KL=kl, Entropy=ent,
                     DeltaLossPi=(loss_pi.item() - pi_l_old), DeltaLossV=(loss_v.item() - v_l_old))

    start_time = time.time()
    o, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    ep_ret, ep_len, start_epoch = 0, 0, 0
    if resume:  # the checkpoint also holds the observation and the episode in progress
        start_epoch, o, ep_ret, ep_len = logger.restore_checkpoint()

    for epoch in range(start_epoch, epochs):
        # This epoch's keys come from the epoch number, so a resumed run draws the same ones.
        key, ac_state = jax.random.fold_in(act_key, epoch), nnx.state(ac)
        for t in range(local_steps_per_epoch):
            a, key = act(ac_state, np.asarray(o, dtype=np.float32), key)
            a = np.asarray(a)
            next_o, r, terminated, truncated, _ = env.step(core.to_env_action(a, env.action_space))
            ep_ret, ep_len = ep_ret + r, ep_len + 1

            # The buffer pairs the action with the observation it was chosen from, so o moves on
            # only after storing.
            buf.store(o, a, r)
            o = next_o

            truncated = truncated or ep_len == max_ep_len
            epoch_ended = t == local_steps_per_epoch - 1
            if terminated or truncated or epoch_ended:
                # After a true terminal state no more reward comes, so the tail is 0. A cut-off
                # episode would have gone on: V of the real next observation estimates the rest.
                v = 0.0 if terminated else value(ac_state, np.asarray(o, dtype=np.float32)).item()
                buf.finish_path(v)
                if terminated or truncated:  # a trajectory cut by the epoch's end is no episode
                    logger.store(EpRet=ep_ret, EpLen=ep_len)
                    o, _ = env.reset()
                    ep_ret, ep_len = 0, 0

        update()

        logger.log_tabular("Epoch", epoch)
        logger.log_tabular("EpRet", with_min_and_max=True)
        logger.log_tabular("EpLen", average_only=True)
        logger.log_tabular("VVals", with_min_and_max=True)
        logger.log_tabular("TotalEnvInteracts", (epoch + 1) * local_steps_per_epoch * num_procs())
        for key in ("LossPi", "LossV", "DeltaLossPi", "DeltaLossV", "Entropy", "KL"):
            logger.log_tabular(key, average_only=True)
        logger.log_tabular("Time", time.time() - start_time)
        logger.dump_tabular()

        # Saved after the update, so model.npz is the policy this epoch produced. Neither save
        # draws random numbers, so a resumed run stays identical to an uninterrupted one.
        if epoch % save_freq == 0 or epoch == epochs - 1:
            logger.save_state({}, None)
        logger.save_checkpoint(epoch + 1, o, ep_ret, ep_len)  # every save_freq epochs, and on Ctrl-C


if __name__ == "__main__":
    # Run this file directly for the algorithm alone, without the spinup command's sweeps and checks:
    #   python -m spinup.algos.jax.vpg.vpg --env CartPole-v1 --cpu 1
    import argparse

    from spinup.utils.envs import make_env_fn
    from spinup.utils.run_utils import setup_logger_kwargs

    parser = argparse.ArgumentParser(description="Train VPG on a Gymnasium environment.")
    parser.add_argument("--env", type=str, default="HalfCheetah-v5")
    parser.add_argument("--hid", type=int, default=64, help="width of each hidden layer")
    parser.add_argument("--l", type=int, default=2, help="number of hidden layers")
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--seed", "-s", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=4, help="MPI processes")
    parser.add_argument("--steps", type=int, default=4000, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--exp_name", type=str, default="vpg")
    args = parser.parse_args()

    mpi_fork(args.cpu)  # relaunch this script as args.cpu MPI processes (nothing happens for 1)

    vpg(make_env_fn(args.env), actor_critic=core.MLPActorCritic,
        ac_kwargs=dict(hidden_sizes=[args.hid] * args.l), gamma=args.gamma,
        seed=args.seed, steps_per_epoch=args.steps, epochs=args.epochs,
        logger_kwargs=setup_logger_kwargs(args.exp_name, args.seed))
