"""Twin Delayed Deep Deterministic Policy Gradient (TD3), in JAX."""

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import spinup.algos.jax.td3.core as core
from spinup.utils.checks import (check, check_nonnegative_ints, check_positive_ints, check_positive_numbers,
                                 check_replay_fits, check_seed, check_unit_interval)
from spinup.utils.envs import setup_env
from spinup.utils.jax_burst import scan_updates, stack_batches
from spinup.utils.jax_state import JaxState
from spinup.utils.logx import EpochLogger


class ReplayBuffer:
    """A first-in, first-out store of transitions, kept as numpy arrays on the host and sampled uniformly.

    Observations are kept as ``obs_dtype``: uint8 for byte observations (pixels, RAM), a quarter
    of the memory of float32. Sampled batches hold float32 arrays with the values stored; the
    jitted update receives one batch at a time.
    """

    def __init__(self, obs_dim, act_dim, size, obs_dtype=np.float32):
        self.obs_buf = np.zeros(core.combined_shape(size, obs_dim), dtype=obs_dtype)
        self.obs2_buf = np.zeros(core.combined_shape(size, obs_dim), dtype=obs_dtype)
        self.act_buf = np.zeros(core.combined_shape(size, act_dim), dtype=np.float32)
        self.rew_buf = np.zeros(size, dtype=np.float32)
        self.done_buf = np.zeros(size, dtype=np.float32)
        self.ptr, self.size, self.max_size = 0, 0, size

    def store(self, obs, act, rew, next_obs, done):
        """Append one transition, overwriting the oldest once the buffer is full.

        ``done`` must be true only when the episode *terminated* (the state has no future). A
        time-limit cut-off is stored with ``done=False``, so the backup bootstraps from ``next_obs``.
        """
        self.obs_buf[self.ptr] = obs
        self.obs2_buf[self.ptr] = next_obs
        self.act_buf[self.ptr] = act
        self.rew_buf[self.ptr] = float(rew)
        self.done_buf[self.ptr] = float(done)
        self.ptr = (self.ptr + 1) % self.max_size
        self.size = min(self.size + 1, self.max_size)

    def sample_batch(self, batch_size=32):
        """``batch_size`` transitions drawn uniformly, with replacement, from those stored."""
        idxs = np.random.randint(0, self.size, size=batch_size)
        return dict(obs=self.obs_buf[idxs].astype(np.float32), obs2=self.obs2_buf[idxs].astype(np.float32),
                    act=self.act_buf[idxs],
                    rew=self.rew_buf[idxs], done=self.done_buf[idxs])


def compute_q_target(data, ac_targ, gamma, act_limit, target_noise, noise_clip, key):
    """The TD3 backup for a batch: y = r + gamma * (1 - d) * min(Q1_targ(s', a'), Q2_targ(s', a')).

    a' = clip(mu_targ(s') + clip(eps, -noise_clip, noise_clip), -act_limit, act_limit), with
    eps ~ N(0, target_noise^2): target policy smoothing. The minimum is the clipped double-Q trick.
    ``target_noise`` and ``noise_clip`` are in the action's own units here; ``key`` draws eps.
    The backup is a constant to the Q-loss: no gradient flows through it.
    """
    r, o2, d = data["rew"], data["obs2"], data["done"]
    pi_targ = ac_targ.pi(o2)

    # Blur the target action, so that a narrow spike in Q next to mu_targ(s') can't inflate y
    epsilon = jax.random.normal(key, pi_targ.shape) * target_noise
    epsilon = jnp.clip(epsilon, -noise_clip, noise_clip)
    a2 = jnp.clip(pi_targ + epsilon, -act_limit, act_limit)

    # Both critics judge a'; the smaller judgement is the one that counts
    q1_pi_targ = ac_targ.q1(o2, a2)
    q2_pi_targ = ac_targ.q2(o2, a2)
    q_pi_targ = jnp.minimum(q1_pi_targ, q2_pi_targ)
    return jax.lax.stop_gradient(r + gamma * (1 - d) * q_pi_targ)


def td3(
    env_fn,
    actor_critic=core.MLPActorCritic,
    ac_kwargs=dict(),
    seed=0,
    steps_per_epoch=4000,
    epochs=100,
    replay_size=int(1e6),
    gamma=0.99,
    polyak=0.995,
    pi_lr=1e-3,
    q_lr=1e-3,
    batch_size=100,
    start_steps=10000,
    update_after=1000,
    update_every=50,
    act_noise=0.1,
    target_noise=0.2,
    noise_clip=0.5,
    policy_delay=2,
    num_test_episodes=10,
    max_ep_len=1000,
    logger_kwargs=dict(),
    save_freq=1,
    device="cpu",
    resume=None,
):
    """Learn a deterministic policy for a continuous-action task with TD3, logging every epoch.

    TD3 is DDPG with three repairs to its Q-learning: a pair of Q-functions whose smaller
    estimate makes the backup (it counters the upward bias of maximising a learned Q), noise on
    the action inside the backup, and a policy that moves only once per ``policy_delay``
    Q-updates. An epoch acts in the environment for ``steps_per_epoch`` steps, learns from
    batches drawn from the replay buffer as it goes, then scores the noise-free policy on
    ``num_test_episodes`` test episodes and writes one row of progress.txt.

    The actor-critic contract
        ``actor_critic(observation_space, action_space, rngs=rngs, **ac_kwargs)`` returns a
        ``flax.nnx.Module`` ``ac`` (its initial weights drawn from ``rngs``, an ``nnx.Rngs``) with
        the members below. In them ``obs`` is a float32 array of shape (batch, obs_dim), with the
        values the environment returned (bytes stay 0 to 255: the default networks divide uint8
        observations by 255 themselves), and ``act`` is a float32 array of shape (batch, act_dim).
        The members must be pure functions of the parameters and their inputs, as ``jax.jit``
        traces them.

        - ``ac.pi(obs) -> act``: the policy mu(s), (batch, act_dim), inside
          [-act_limit, act_limit]. The policy loss is backpropagated through it.
        - ``ac.q1(obs, act) -> q``: one Q-function, (batch,). It must be flat: a (batch, 1)
          output broadcasts against the (batch,) backup into a (batch, batch) matrix.
        - ``ac.q2(obs, act) -> q``: the other Q-function, (batch,).
        - ``ac.act(obs) -> a``: mu(s) as a JAX array; (act_dim,) for one observation of shape
          (obs_dim,). It is how the run and ``spinup test_policy`` choose actions.

    Args:
        env_fn (callable): Takes no arguments and returns a Gymnasium environment; it is called
            twice, for a training and a test environment. The actions must be a Box with the same
            bounds [-a, a] in every dimension (``gymnasium.wrappers.RescaleAction`` makes any Box so).
        actor_critic (callable): Builds the networks, as the actor-critic contract above says.
        ac_kwargs (dict): Handed on to ``actor_critic``. The default networks take
            ``hidden_sizes`` (default (256, 256)) and ``activation`` (default ``flax.nnx.relu``).
        seed (int): Seeds JAX (the initial weights and the key of every random draw), numpy and
            the training environment. The test environment gets
            ``seed + 10000``, so its episodes start from states that training did not.
        steps_per_epoch (int): Environment steps per epoch; each epoch ends with a test and a
            row of progress.txt.
        epochs (int): Length of the run in epochs, ``steps_per_epoch * epochs`` steps in all.
        replay_size (int): How many transitions the buffer holds; when it is full each new one
            replaces the oldest. A buffer bigger than the free memory is refused at the start.
        gamma (float): The discount, in [0, 1]: a reward k steps away is worth gamma**k of one now.
        polyak (float): How far the target networks lag, in [0, 1]. Each target update sets
            every target weight to ``polyak * target + (1 - polyak) * trained``, so 0.995 moves it
            0.005 of the way (the tau of other papers).
        pi_lr (float): Adam's step size for the policy.
        q_lr (float): Adam's step size for Q-learning.
        batch_size (int): Transitions in each sampled batch, one batch per gradient step.
        start_steps (int): For this many steps at the start, actions come uniformly from the
            action space rather than from the policy, so the buffer begins with varied experience.
        update_after (int): Learning waits until this many steps are in the buffer, so early
            batches are not drawn from a handful of transitions.
        update_every (int): Learning comes in bursts: every ``update_every`` steps, that many
            Q-updates in a row. From ``update_after`` on that makes one Q-update per environment
            step whatever the value; a larger one only groups them, which is quicker.
        act_noise (float): Standard deviation of the Gaussian noise added to the policy's actions
            while collecting experience, as a fraction of act_limit (as in the TD3 paper's code):
            0.1 on Pendulum, whose limit is 2, is a standard deviation of 0.2. Tests use none.
        target_noise (float): Standard deviation of the noise on the action in the backup, as a
            fraction of act_limit.
        noise_clip (float): That noise is clipped to [-noise_clip, noise_clip] times act_limit.
        policy_delay (int): The policy and the target networks are updated once per
            ``policy_delay`` Q-updates, counted over the whole run.
        num_test_episodes (int): Episodes of the noise-free policy on the test environment after
            each epoch. They draw no random numbers, so their number leaves training unchanged.
        max_ep_len (int): The longest an episode may run. An episode stopped here is treated as a
            Gymnasium time limit, not an ending: its last transition is stored as not done and
            its backup bootstraps.
        logger_kwargs (dict): Handed to ``EpochLogger``: ``output_dir``, ``exp_name`` and so on,
            as ``spinup.utils.run_utils.setup_logger_kwargs`` makes them.
        save_freq (int): The networks are saved every ``save_freq`` epochs, and
            after the last one.
        device (str): Where the networks live and the update runs: ``'cpu'``, ``'cuda'`` (or
            ``'cuda:N'``), or ``'auto'`` (a GPU if JAX sees one). The replay buffer stays in host
            memory, as numpy arrays; saved models always hold CPU arrays.
        resume (str): A run directory to continue from its last checkpoint (written every
            ``save_freq`` epochs, with the replay buffer while it holds at most 1e6 transitions);
            pass the run's other arguments unchanged.
    """
    check_positive_ints(steps_per_epoch=steps_per_epoch, epochs=epochs, replay_size=replay_size,
                        batch_size=batch_size, update_every=update_every, policy_delay=policy_delay,
                        num_test_episodes=num_test_episodes, max_ep_len=max_ep_len, save_freq=save_freq)
    check_nonnegative_ints(start_steps=start_steps, update_after=update_after)
    check_unit_interval(gamma=gamma, polyak=polyak)
    check_positive_numbers(pi_lr=pi_lr, q_lr=q_lr, target_noise=target_noise, noise_clip=noise_clip)
    check(isinstance(act_noise, (int, float)) and act_noise >= 0,
          f"act_noise must be a number >= 0, not {act_noise!r}.")
    check_seed(seed)

    # The logger writes config.json now, progress.txt once per epoch
    logger = EpochLogger(**logger_kwargs, resume=resume)
    logger.save_config(locals())

    # Networks and replay buffer live on one device; numpy appears only at the env's boundary
    device = core.get_device(device)

    # One key for the initial weights, one that every later draw is split from
    init_key, key = jax.random.split(jax.random.PRNGKey(seed))
    np.random.seed(seed)

    # Two copies of the environment: test episodes must not disturb the one being trained on
    env, test_env = setup_env(env_fn, "td3"), setup_env(env_fn, "td3")
    obs_dim = env.observation_space.shape
    act_dim = env.action_space.shape[0]

    # One number bounds every action dimension: the policy's tanh output is scaled by it
    act_limit = float(env.action_space.high[0])
    check(
        np.all(env.action_space.low == -act_limit) and np.all(env.action_space.high == act_limit),
        f"td3 needs the same bounds [-a, a] in every action dimension, not {env.action_space}; wrap the "
        "environment in gymnasium.wrappers.RescaleAction(env, -1.0, 1.0).",
    )

    # The networks split into their structure (graphdef) and their parameters, a pytree of arrays
    # that the jitted update takes and returns. The target networks are a second set of
    # parameters: an exact copy at first, then changed only by polyak averaging, never by Adam.
    ac = actor_critic(env.observation_space, env.action_space, rngs=nnx.Rngs(init_key), **ac_kwargs)
    graphdef, state = nnx.split(ac)
    params = jax.device_put(dict(state), device)
    targ_params = jax.tree.map(jnp.copy, params)

    # Byte observations are stored as bytes; refuse a buffer the memory can't hold before making it
    obs_dtype = np.uint8 if env.observation_space.dtype == np.uint8 else np.float32
    check_replay_fits("td3", replay_size, 2 * np.dtype(obs_dtype).itemsize * int(np.prod(obs_dim)) + 4 * (act_dim + 2))
    replay_buffer = ReplayBuffer(obs_dim=obs_dim, act_dim=act_dim, size=replay_size, obs_dtype=obs_dtype)

    var_counts = tuple(core.count_vars(module) for module in [ac.pi, ac.q1, ac.q2])
    logger.log("\nNumber of parameters: \t pi: %d, \t q1: %d, \t q2: %d\n" % var_counts)

    # The Q-loss: regression on the backup y. Its gradient is taken with respect to q_params
    # (both Q-functions) only; the other networks enter as constants.
    def compute_loss_q(q_params, params, targ_params, data, key):
        ac = nnx.merge(graphdef, nnx.State({**params, **q_params}))
        ac_targ = nnx.merge(graphdef, nnx.State(targ_params))
        o, a = data["obs"], data["act"]
        q1 = ac.q1(o, a)
        q2 = ac.q2(o, a)

        # The noise settings are fractions of act_limit; compute_q_target takes the action's units
        backup = compute_q_target(data, ac_targ, gamma, act_limit, target_noise * act_limit, noise_clip * act_limit,
                                  key)

        # Squared error against the backup, averaged over the batch
        loss_q1 = ((q1 - backup) ** 2).mean()
        loss_q2 = ((q2 - backup) ** 2).mean()
        loss_q = loss_q1 + loss_q2

        # The Q-values go to progress.txt
        loss_info = dict(Q1Vals=q1, Q2Vals=q2)

        return loss_q, loss_info

    # The policy loss: minus Q1 at the policy's own action, so descending it climbs Q1. Its
    # gradient is taken with respect to the policy's parameters only, so Q needs no freezing.
    def compute_loss_pi(pi_params, params, data):
        ac = nnx.merge(graphdef, nnx.State({**params, "pi": pi_params}))
        o = data["obs"]
        q1_pi = ac.q1(o, ac.pi(o))
        return -q1_pi.mean()

    # One Adam optimiser for the policy, one for Q; their states are pytrees too, taken and
    # returned by the update
    pi_optimizer = optax.adam(pi_lr)
    q_optimizer = optax.adam(q_lr)
    pi_opt_state = pi_optimizer.init(params["pi"])
    q_opt_state = q_optimizer.init({"q1": params["q1"], "q2": params["q2"]})

    # Everything the update changes, held in one place: the loop puts each update's results
    # back here, and the checkpoint saves it as plain arrays. All of it is placed on the device
    # now, as the update's results are: jit compiles for where its inputs live, and a first call
    # with some arrays not yet placed would compile the update (and acting) a second time.
    ts = JaxState(**jax.device_put(dict(
        params=params, targ_params=targ_params, pi_opt_state=pi_opt_state, q_opt_state=q_opt_state, key=key), device))

    # What model.pt and the resume checkpoint hold
    logger.setup_jax_saver(ac, env=env, ac_kwargs=ac_kwargs)
    logger.setup_checkpoint(env=env, test_env=test_env, train_state=ts, replay_buffer=replay_buffer)

    # The delayed part: a step on the policy, then the targets' step towards the networks
    def update_pi_and_targets(params, targ_params, pi_opt_state, data):
        loss_pi, pi_grads = jax.value_and_grad(compute_loss_pi)(params["pi"], params, data)
        pi_updates, pi_opt_state = pi_optimizer.update(pi_grads, pi_opt_state)
        params = {**params, "pi": optax.apply_updates(params["pi"], pi_updates)}
        targ_params = core.polyak_update(params, targ_params, polyak)
        return params, targ_params, pi_opt_state, loss_pi

    # A Q-update, and on one Q-update in policy_delay the delayed part: a pure function of the
    # arrays it takes
    def update(params, targ_params, pi_opt_state, q_opt_state, key, data, timer):
        key, q_key = jax.random.split(key)

        # Q-learning's gradient step, on every update
        q_params = {"q1": params["q1"], "q2": params["q2"]}
        (loss_q, loss_info), q_grads = jax.value_and_grad(compute_loss_q, has_aux=True)(
            q_params, params, targ_params, data, q_key)
        q_updates, q_opt_state = q_optimizer.update(q_grads, q_opt_state)
        params = {**params, **optax.apply_updates(q_params, q_updates)}

        # lax.cond runs one branch, chosen by the traced timer, so one compiled function serves both
        params, targ_params, pi_opt_state, loss_pi = jax.lax.cond(
            timer % policy_delay == 0, update_pi_and_targets,
            lambda params, targ_params, pi_opt_state, data: (params, targ_params, pi_opt_state, jnp.float32(jnp.nan)),
            params, targ_params, pi_opt_state, data)

        info = dict(LossQ=loss_q, LossPi=loss_pi, **loss_info)
        return params, targ_params, pi_opt_state, q_opt_state, key, info

    # A burst of update_every updates, compiled once as one loop over a stack of batches
    update_burst = scan_updates(update, n_state=5)

    @jax.jit
    def act(params, o):
        return nnx.merge(graphdef, nnx.State(params)).act(o)

    def get_action(o, noise_scale):
        a = np.array(act(ts.params, np.asarray(o, dtype=np.float32)))
        # Test episodes pass 0 and draw nothing, so they leave the exploration noise's stream alone
        if noise_scale > 0:
            a += noise_scale * act_limit * np.random.randn(act_dim)
        return np.clip(a, -act_limit, act_limit)

    def test_agent():
        for j in range(num_test_episodes):
            o, _ = test_env.reset()
            terminated, truncated, ep_ret, ep_len = False, False, 0, 0
            while not (terminated or truncated or ep_len == max_ep_len):
                # The policy as it is, with no exploration noise
                o, r, terminated, truncated, _ = test_env.step(get_action(o, 0))
                ep_ret += r
                ep_len += 1
            logger.store(TestEpRet=ep_ret, TestEpLen=ep_len)

    # Seed the environments, then start (or pick up) the first episode
    total_steps = steps_per_epoch * epochs
    start_time = time.time()
    o, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    test_env.reset(seed=seed + 10000)
    ep_ret, ep_len, start_epoch = 0, 0, 0
    if resume:  # continue a stopped run where its last checkpoint left off
        start_epoch, o, ep_ret, ep_len = logger.restore_checkpoint()

    # Each step: act, store the transition, maybe learn; each steps_per_epoch steps: test and log
    for t in range(start_epoch * steps_per_epoch, total_steps):
        # Uniform random actions for the first start_steps, the noisy policy after that
        if t >= start_steps:
            a = get_action(o, act_noise)
        else:
            a = env.action_space.sample()

        next_o, r, terminated, truncated, _ = env.step(a)
        ep_ret += r
        ep_len += 1

        # Store experience to replay buffer. Only a termination is "done": a time-limit cut-off
        # (truncated) is not, and its backup bootstraps from next_o, the real next observation.
        replay_buffer.store(o, a, r, next_o, terminated)

        # Move on: forgetting this line would store the same o as the start of every transition
        o = next_o

        # An episode that ended, or ran into max_ep_len, is logged and a new one begun
        truncated = truncated or ep_len == max_ep_len
        if terminated or truncated:
            logger.store(EpRet=ep_ret, EpLen=ep_len)
            o, _ = env.reset()
            ep_ret, ep_len = 0, 0

        # A burst of update_every updates, numbered t, t + 1, ...: the numbers run on from burst
        # to burst (and through a resume), so the policy delay counts over the whole run
        if t >= update_after and t % update_every == 0:
            batches = stack_batches([replay_buffer.sample_batch(batch_size) for j in range(update_every)])
            timers = t + np.arange(update_every)
            ts.params, ts.targ_params, ts.pi_opt_state, ts.q_opt_state, ts.key, info = update_burst(
                ts.params, ts.targ_params, ts.pi_opt_state, ts.q_opt_state, ts.key, batches, timers)
            loss_pi = info.pop("LossPi")
            # each value stacked over the burst's steps; LossPi only from the steps that took one
            logger.store(**info, LossPi=loss_pi[timers % policy_delay == 0])

        # The epoch's end: save, test, write a row of progress.txt, checkpoint
        if (t + 1) % steps_per_epoch == 0:
            epoch = (t + 1) // steps_per_epoch

            # The module the logger saves (and checks for NaN) takes the parameters trained so far
            nnx.update(ac, nnx.State(ts.params))
            if (epoch % save_freq == 0) or (epoch == epochs):
                logger.save_state({}, None)

            test_agent()

            logger.log_tabular("Epoch", epoch)
            logger.log_tabular("EpRet", with_min_and_max=True)
            logger.log_tabular("TestEpRet", with_min_and_max=True)
            logger.log_tabular("EpLen", average_only=True)
            logger.log_tabular("TestEpLen", average_only=True)
            logger.log_tabular("TotalEnvInteracts", t + 1)
            logger.log_tabular("Q1Vals", with_min_and_max=True)
            logger.log_tabular("Q2Vals", with_min_and_max=True)
            logger.log_tabular("LossPi", average_only=True)
            logger.log_tabular("LossQ", average_only=True)
            logger.log_tabular("Time", time.time() - start_time)
            logger.dump_tabular()

            # Checkpoint for resuming (every save_freq epochs, and on Ctrl-C)
            logger.save_checkpoint(epoch, o, ep_ret, ep_len)


if __name__ == "__main__":
    import argparse

    from spinup.utils.envs import make_env_fn
    from spinup.utils.run_utils import setup_logger_kwargs

    parser = argparse.ArgumentParser()
    parser.add_argument("--env", type=str, default="HalfCheetah-v5")
    parser.add_argument("--hid", type=int, default=256)
    parser.add_argument("--l", type=int, default=2)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--seed", "-s", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--device", type=str, default="cpu")
    parser.add_argument("--exp_name", type=str, default="td3")
    args = parser.parse_args()

    td3(make_env_fn(args.env), actor_critic=core.MLPActorCritic,
        ac_kwargs=dict(hidden_sizes=[args.hid] * args.l), gamma=args.gamma,
        seed=args.seed, epochs=args.epochs, device=args.device,
        logger_kwargs=setup_logger_kwargs(args.exp_name, args.seed))
