"""Trust Region Policy Optimization (and the natural policy gradient) with GAE-Lambda advantages, in PyTorch."""

import time

import numpy as np
import torch
from torch.optim import Adam

import spinup.algos.pytorch.trpo.core as core
from spinup.utils.checks import check, check_nonnegative_ints, check_positive_ints, check_positive_numbers, check_seed, check_unit_interval
from spinup.utils.envs import setup_env
from spinup.utils.logx import EpochLogger
from spinup.utils.mpi_pytorch import mpi_avg_grads, setup_pytorch_for_mpi, sync_params
from spinup.utils.mpi_tools import mpi_avg, mpi_fork, mpi_statistics_scalar, num_procs, proc_id


EPS = 1e-8


class TRPOBuffer:
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
        """Append one timestep of agent-environment interaction."""
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

        # the next two lines implement GAE-Lambda advantage calculation
        deltas = rews[:-1] + self.gamma * vals[1:] - vals[:-1]
        self.adv_buf[path_slice] = core.discount_cumsum(deltas, self.gamma * self.lam)

        # the next line computes rewards-to-go, to be targets for the value function
        self.ret_buf[path_slice] = core.discount_cumsum(rews, self.gamma)[:-1]

    def get(self, ac):
        """Return the epoch's data as tensors, advantages normalised, and empty the buffer.

        ``ac`` is the actor-critic that collected the epoch: V and log pi of every step come
        from it, in one batched pass.
        """
        assert self.ptr == self.max_size, "get() is called once the buffer is full"
        obs, act = torch.as_tensor(self.obs_buf), torch.as_tensor(self.act_buf)
        with torch.no_grad():
            _, logp = ac.pi(obs, act)
            val = ac.v(obs).numpy()
        for path_slice, last_val in self.paths:
            self.compute_advantages(path_slice, val[path_slice], last_val)
        self.ptr, self.path_start_idx, self.paths = 0, 0, []
        # advantage normalisation, with statistics over all MPI processes
        adv_mean, adv_std = mpi_statistics_scalar(self.adv_buf)
        # in place: the buffer stays float32 (a new array would be float64, as adv_mean is)
        self.adv_buf[:] = (self.adv_buf - adv_mean) / (adv_std + 1e-8)
        data = dict(obs=obs, act=act, ret=self.ret_buf, adv=self.adv_buf, logp=logp, val=val)
        return {k: torch.as_tensor(v, dtype=torch.float32) for k, v in data.items()}


def trpo(
    env_fn,
    actor_critic=core.MLPActorCritic,
    ac_kwargs=dict(),
    seed=0,
    steps_per_epoch=4000,
    epochs=50,
    gamma=0.99,
    delta=0.01,
    vf_lr=1e-3,
    train_v_iters=80,
    damping_coeff=0.1,
    cg_iters=10,
    backtrack_iters=10,
    backtrack_coeff=0.8,
    lam=0.97,
    max_ep_len=1000,
    logger_kwargs=dict(),
    save_freq=10,
    algo="trpo",
    resume=None,
):
    """
    Trust Region Policy Optimization (with GAE-Lambda for advantage estimation).

    Each epoch takes one step of the natural policy gradient, found by conjugate gradient on
    Hessian-vector products of the mean KL, then (for ``algo='trpo'``) a backtracking line search
    shrinks it until the mean KL is within ``delta`` and the surrogate objective has improved.

    Args:
        env_fn : A function which creates a copy of the environment. The environment must satisfy
            the Gymnasium API (``reset`` returns ``(obs, info)``, ``step`` returns
            ``(obs, rew, terminated, truncated, info)``).

        actor_critic: The constructor method for a PyTorch Module with an ``act`` method, a
            ``pi`` module, and a ``v`` module, exactly as for
            :func:`spinup.algos.pytorch.ppo.ppo.ppo` (see its docstring for the shapes):
            ``act(obs)`` returns numpy actions (batch, act_dim); ``pi(obs, act)`` returns a torch
            Distribution and the log-probs of ``act``; ``v(obs)`` returns value estimates of shape
            (batch,). V and the log-probs of the epoch's batch are computed in one pass at its end.
            The KL divergence between two of ``pi``'s distributions must be known to
            ``torch.distributions.kl_divergence``.

        ac_kwargs (dict): Any kwargs appropriate for the ActorCritic object you provided to PPO
            (for the default: ``hidden_sizes``, ``activation``).

        seed (int): Seed for random number generators.

        steps_per_epoch (int): Number of steps of interaction (state-action pairs) for the agent
            and the environment in each epoch, summed over all MPI processes.

        epochs (int): Number of epochs of interaction (equivalent to number of policy updates) to
            perform.

        gamma (float): Discount factor. (Always between 0 and 1.)

        delta (float): KL-divergence limit for TRPO / NPG update. (Should be small for
            stability. Values like 0.01, 0.05.)

        vf_lr (float): Learning rate for the value function optimizer.

        train_v_iters (int): Number of gradient descent steps to take on the value function per
            epoch.

        damping_coeff (float): Artifact for numerical stability, should be smallish. Adjusts
            Hessian-vector product calculation: :math:`Hv \\rightarrow (\\alpha I + H)v` where
            :math:`\\alpha` is the damping coefficient. Probably don't play with this hyperparameter.

        cg_iters (int): Number of iterations of conjugate gradient to perform. Increasing this
            will lead to a more accurate approximation to :math:`H^{-1} g`, and possibly slightly
            improved performance, but at the cost of slowing things down.

        backtrack_iters (int): Maximum number of steps allowed in the backtracking line search.
            Since the line search usually doesn't backtrack, and usually only steps back once when
            it does, this hyperparameter doesn't often matter.

        backtrack_coeff (float): How far back to step during backtracking line search. (Always
            between 0 and 1, usually above 0.5.)

        lam (float): Lambda for GAE-Lambda. (Always between 0 and 1, close to 1.)

        max_ep_len (int): Maximum length of trajectory / episode / rollout. An episode cut off here
            is treated like a Gymnasium time-limit truncation: its return is bootstrapped.

        logger_kwargs (dict): Keyword args for EpochLogger.

        save_freq (int): How often (in terms of gap between epochs) to save the current policy and
            value function. The last epoch is always saved.

        algo (str): ``'trpo'`` for the line search, ``'npg'`` for the plain natural policy
            gradient step (no line search, so the KL limit holds only approximately).

        resume (str): A run directory to continue from its last checkpoint (written every
            ``save_freq`` epochs); pass the run's other arguments unchanged.
    """
    check_positive_ints(steps_per_epoch=steps_per_epoch, epochs=epochs, cg_iters=cg_iters,
                        max_ep_len=max_ep_len, save_freq=save_freq,
                        backtrack_iters=backtrack_iters)
    check_nonnegative_ints(train_v_iters=train_v_iters)
    check_unit_interval(gamma=gamma, lam=lam, backtrack_coeff=backtrack_coeff)
    check_positive_numbers(delta=delta, vf_lr=vf_lr, damping_coeff=damping_coeff)
    check(algo in ("trpo", "npg"), f"algo must be 'trpo' or 'npg', not {algo!r}.")
    check_seed(seed)

    # Special function to avoid certain slowdowns from PyTorch + MPI combo.
    setup_pytorch_for_mpi()

    # Set up logger and save configuration
    logger = EpochLogger(**logger_kwargs, resume=resume)
    logger.save_config(locals())

    # Random seed: each MPI process gets its own stream
    seed += 10000 * proc_id()
    torch.manual_seed(seed)
    np.random.seed(seed)

    # Instantiate environment
    env = setup_env(env_fn, "trpo")
    obs_dim = env.observation_space.shape
    act_dim = env.action_space.shape

    # Create actor-critic module
    ac = actor_critic(env.observation_space, env.action_space, **ac_kwargs)

    # Sync params across processes
    sync_params(ac)

    # Count variables
    var_counts = tuple(core.count_vars(module) for module in [ac.pi, ac.v])
    logger.log("\nNumber of parameters: \t pi: %d, \t v: %d\n" % var_counts)

    # Set up experience buffer
    local_steps_per_epoch = int(steps_per_epoch / num_procs())
    buf = TRPOBuffer(obs_dim, act_dim, local_steps_per_epoch, gamma, lam)

    # Set up function for computing TRPO policy loss: minus the surrogate advantage
    def compute_loss_pi(data):
        obs, act, adv, logp_old = data["obs"], data["act"], data["adv"], data["logp"]

        # Policy loss
        pi, logp = ac.pi(obs, act)
        ratio = torch.exp(logp - logp_old)
        loss_pi = -(ratio * adv).mean()

        # Useful extra info
        ent = pi.entropy().mean().item()
        pi_info = dict(ent=ent)

        return loss_pi, pi_info

    # Set up function for the constraint: mean KL from the policy that collected the data
    def compute_kl(data, pi_old):
        pi, _ = ac.pi(data["obs"])
        return core.mean_kl(pi_old, pi)

    # Set up function for computing value loss
    def compute_loss_v(data):
        obs, ret = data["obs"], data["ret"]
        return ((ac.v(obs) - ret) ** 2).mean()

    # Set up optimizer for value function (the policy moves by the natural gradient instead)
    vf_optimizer = Adam(ac.v.parameters(), lr=vf_lr)

    # Set up model saving
    logger.setup_pytorch_saver(ac, env=env, ac_kwargs=ac_kwargs)
    logger.setup_checkpoint(env=env, ac=ac, vf_optimizer=vf_optimizer)

    def update():
        data = buf.get(ac)
        logger.store(VVals=data["val"])

        loss_pi_old, pi_info_old = compute_loss_pi(data)
        pi_l_old = mpi_avg(loss_pi_old.item())
        v_l_old = compute_loss_v(data).item()

        # The policy that collected the data, frozen: KL and ratios are measured from it
        with torch.no_grad():
            pi_old, _ = ac.pi(data["obs"])
        params = list(ac.pi.parameters())

        # g: gradient of the loss; Hx: the KL's Hessian (the Fisher matrix) times x, damped
        g = torch.as_tensor(mpi_avg(core.flat_grad(loss_pi_old, params).numpy()))
        grad_kl = core.flat_grad(compute_kl(data, pi_old), params, create_graph=True)

        def Hx(x):
            hvp = torch.as_tensor(mpi_avg(core.hessian_vector_product(grad_kl, params, x).numpy()))
            return hvp + damping_coeff * x

        # Natural gradient direction x = H^-1 g, scaled so the quadratic KL model equals delta
        x = core.conjugate_gradient(Hx, g, cg_iters)
        alpha = torch.sqrt(2 * delta / (torch.dot(x, Hx(x)) + EPS))
        old_params = core.get_flat_params_from(ac.pi)

        def set_and_eval(step):
            core.set_flat_params_to(ac.pi, old_params - alpha * x * step)
            with torch.no_grad():
                return mpi_avg(compute_kl(data, pi_old).item()), mpi_avg(compute_loss_pi(data)[0].item())

        if algo == "npg":
            # npg has no backtracking or hard kl constraint enforcement
            kl, pi_l_new = set_and_eval(step=1.0)
        else:
            # trpo augments npg with backtracking line search, hard kl
            for j in range(backtrack_iters):
                kl, pi_l_new = set_and_eval(step=backtrack_coeff**j)
                if kl <= delta and pi_l_new <= pi_l_old:
                    logger.log("Accepting new params at step %d of line search." % j)
                    break
                if j == backtrack_iters - 1:
                    logger.log("Line search failed! Keeping old params.")
                    kl, pi_l_new = set_and_eval(step=0.0)
            logger.store(BacktrackIters=j)

        # Value function learning
        for i in range(train_v_iters):
            vf_optimizer.zero_grad()
            loss_v = compute_loss_v(data)
            loss_v.backward()
            mpi_avg_grads(ac.v)  # average grads across MPI processes
            vf_optimizer.step()
        with torch.no_grad():  # measured after the steps (and defined when there are none)
            loss_v = compute_loss_v(data)

        # Log changes from update
        ent = pi_info_old["ent"]
        logger.store(LossPi=pi_l_old, LossV=v_l_old, KL=kl, Entropy=ent,
                     DeltaLossPi=(pi_l_new - pi_l_old), DeltaLossV=(loss_v.item() - v_l_old))

    # Prepare for interaction with environment
    start_time = time.time()
    o, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    ep_ret, ep_len, start_epoch = 0, 0, 0
    if resume:  # continue a stopped run where its last checkpoint left off
        start_epoch, o, ep_ret, ep_len = logger.restore_checkpoint()

    # Main loop: collect experience in env and update/log each epoch
    for epoch in range(start_epoch, epochs):
        for t in range(local_steps_per_epoch):
            a = ac.act(torch.as_tensor(o, dtype=torch.float32))

            next_o, r, terminated, truncated, _ = env.step(core.to_env_action(a, env.action_space))
            ep_ret += r
            ep_len += 1

            # save (V and log pi of the batch are computed at the end of the epoch, in one pass)
            buf.store(o, a, r)

            # Update obs (critical!)
            o = next_o

            truncated = truncated or ep_len == max_ep_len
            epoch_ended = t == local_steps_per_epoch - 1

            if terminated or truncated or epoch_ended:
                # A terminal state has no future; a cut-off (time limit or end of epoch) does, and
                # V(s') of the real next observation stands in for it.
                with torch.no_grad():
                    v = 0.0 if terminated else ac.v(torch.as_tensor(o, dtype=torch.float32)).item()
                buf.finish_path(v)
                if terminated or truncated:
                    # only save EpRet / EpLen if the episode really ended
                    logger.store(EpRet=ep_ret, EpLen=ep_len)
                    o, _ = env.reset()
                    ep_ret, ep_len = 0, 0

        # Save model
        if (epoch % save_freq == 0) or (epoch == epochs - 1):
            logger.save_state({}, None)

        # Perform TRPO or NPG update!
        update()

        # Log info about epoch
        logger.log_tabular("Epoch", epoch)
        logger.log_tabular("EpRet", with_min_and_max=True)
        logger.log_tabular("EpLen", average_only=True)
        logger.log_tabular("VVals", with_min_and_max=True)
        logger.log_tabular("TotalEnvInteracts", (epoch + 1) * local_steps_per_epoch * num_procs())
        logger.log_tabular("LossPi", average_only=True)
        logger.log_tabular("LossV", average_only=True)
        logger.log_tabular("DeltaLossPi", average_only=True)
        logger.log_tabular("DeltaLossV", average_only=True)
        logger.log_tabular("Entropy", average_only=True)
        logger.log_tabular("KL", average_only=True)
        if algo == "trpo":
            logger.log_tabular("BacktrackIters", average_only=True)
        logger.log_tabular("Time", time.time() - start_time)
        logger.dump_tabular()

        # Checkpoint for resuming (every save_freq epochs, and on Ctrl-C)
        logger.save_checkpoint(epoch + 1, o, ep_ret, ep_len)


if __name__ == "__main__":
    import argparse

    from spinup.utils.envs import make_env_fn
    from spinup.utils.run_utils import setup_logger_kwargs

    parser = argparse.ArgumentParser()
    parser.add_argument("--env", type=str, default="HalfCheetah-v5")
    parser.add_argument("--hid", type=int, default=64)
    parser.add_argument("--l", type=int, default=2)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--seed", "-s", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--exp_name", type=str, default="trpo")
    args = parser.parse_args()

    mpi_fork(args.cpu)  # run parallel code with mpi

    trpo(make_env_fn(args.env), actor_critic=core.MLPActorCritic,
        ac_kwargs=dict(hidden_sizes=[args.hid] * args.l), gamma=args.gamma,
        seed=args.seed, steps_per_epoch=args.steps, epochs=args.epochs,
        logger_kwargs=setup_logger_kwargs(args.exp_name, args.seed))
