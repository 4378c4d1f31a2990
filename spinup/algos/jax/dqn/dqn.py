"""Deep Q-Network (DQN), with optional Double DQN targets, in JAX."""

import time

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import spinup.algos.jax.dqn.core as core
from spinup.utils.checks import (check, check_nonnegative_ints, check_positive_ints, check_positive_numbers,
                                 check_replay_fits, check_seed, check_unit_interval)
from spinup.utils.envs import flatten_observations, setup_env
from spinup.utils.jax_burst import loop_updates, scan_updates, stack_batches
from spinup.utils.jax_state import JaxState
from spinup.utils.logx import EpochLogger


class ReplayBuffer:
    """The last ``size`` transitions, held as numpy arrays on the host; batches are drawn uniformly.

    Observations keep ``obs_dtype``: images stay uint8, a quarter of what float32 would take, and
    the Q-network converts them to float as it reads them.
    """

    def __init__(self, obs_shape, obs_dtype, size):
        self.obs_buf = np.zeros(core.combined_shape(size, obs_shape), dtype=obs_dtype)
        self.obs2_buf = np.zeros(core.combined_shape(size, obs_shape), dtype=obs_dtype)
        self.act_buf = np.zeros(size, dtype=np.int32)
        self.rew_buf = np.zeros(size, dtype=np.float32)
        self.done_buf = np.zeros(size, dtype=np.float32)
        self.ptr, self.size, self.max_size = 0, 0, size

    def store(self, obs, act, rew, next_obs, done):
        """Write one transition into the next slot; when the buffer is full, that is the oldest.

        ``act`` is the action's index, 0 to n-1. ``done`` is true only when the environment
        *terminated*: at a time-limit cut-off ``next_obs`` still has a future, and the target
        bootstraps from it.
        """
        self.obs_buf[self.ptr] = obs
        self.obs2_buf[self.ptr] = next_obs
        self.act_buf[self.ptr] = int(act)
        self.rew_buf[self.ptr] = float(rew)
        self.done_buf[self.ptr] = float(done)
        self.ptr = (self.ptr + 1) % self.max_size
        self.size = min(self.size + 1, self.max_size)

    def sample_batch(self, batch_size=32):
        """A batch of ``batch_size`` stored transitions, picked uniformly with replacement."""
        idxs = np.random.randint(0, self.size, size=batch_size)
        return dict(obs=self.obs_buf[idxs], obs2=self.obs2_buf[idxs], act=self.act_buf[idxs],
                    rew=self.rew_buf[idxs], done=self.done_buf[idxs])


def compute_q_target(data, ac, ac_targ, gamma, double_dqn):
    """The regression target for a batch: y = r + gamma * (1 - d) * Q_targ(s', a').

    a' is the greedy next action. Plain DQN lets the target network both choose a' and value it,
    and the max of noisy estimates is biased upwards. Double DQN has the online network choose a'
    and the target network value it, which removes most of that bias. The target is a constant
    to the loss: no gradient flows through it.
    """
    r, o2, d = data["rew"], data["obs2"], data["done"]
    q_targ_next = ac_targ.q(o2)

    # Who chooses a': the online network (Double DQN) or the target network (plain DQN)
    a2 = ac.q(o2).argmax(axis=-1) if double_dqn else q_targ_next.argmax(axis=-1)

    # The target network's value of a'
    q_pi_targ = jnp.take_along_axis(q_targ_next, a2[:, None], axis=-1).squeeze(-1)
    return jax.lax.stop_gradient(r + gamma * (1 - d) * q_pi_targ)


def image_channels_first(env, channels_first):
    """Whether ``env``'s image observations are CxHxW, from what is known about where they come from.

    ``channels_first`` (True or False) settles it. Otherwise: MinAtar's games give HxWxC;
    Gymnasium's ``FrameStackObservation`` over 2-D frames puts the stack first, CxHxW; any other
    image is read from its shape by ``core.is_channels_first``.
    """
    if channels_first is not None:
        return bool(channels_first)
    if type(env.unwrapped).__module__.split(".")[0] == "minatar":
        return False
    wrapper = env
    while isinstance(wrapper, gym.Wrapper):
        if isinstance(wrapper, gym.wrappers.FrameStackObservation) and len(wrapper.env.observation_space.shape) == 2:
            return True
        wrapper = wrapper.env
    return core.is_channels_first(env.observation_space.shape)


def dqn(
    env_fn,
    actor_critic=core.QNetwork,
    ac_kwargs=dict(),
    seed=0,
    steps_per_epoch=4000,
    epochs=100,
    replay_size=int(1e6),
    gamma=0.99,
    lr=1e-3,
    batch_size=100,
    update_after=1000,
    update_every=50,
    eps_start=1.0,
    eps_end=0.05,
    eps_decay_steps=10000,
    target_update_every=1000,
    polyak=None,
    double_dqn=True,
    num_test_episodes=10,
    max_ep_len=None,
    logger_kwargs=dict(),
    save_freq=1,
    device="cpu",
    resume=None,
    channels_first=None,
):
    """
    Deep Q-Network (DQN), with Double DQN targets unless ``double_dqn=False``.

    One network, ``q``, scores every action of a discrete action space, and the agent acts
    epsilon-greedily on those scores. Each transition goes into a replay buffer. Every
    ``update_every`` steps the agent takes that many gradient steps, each on a minibatch from the
    buffer, pulling Q(s, a) towards a target computed with a second copy of the network, the
    target network, which is refreshed only now and then.

    The Q-network contract:
        ``actor_critic(observation_space, action_space, rngs=rngs, **ac_kwargs)`` builds a
        ``flax.nnx.Module`` (its initial weights drawn from ``rngs``, an ``nnx.Rngs``; the argument
        is named as in the other algorithms, though DQN has no actor) whose members are pure
        functions of its parameters and inputs, as ``jax.jit`` traces them:

        * ``q(obs) -> (batch, n_actions)``: an array with one Q-value per action for each
          observation in ``obs`` of shape ``(batch, *obs_shape)``. Column ``i`` belongs to the
          environment's action ``action_space.start + i``.
        * ``act(obs) -> (batch,)``: a JAX array of the indices, from 0, of the actions with the
          highest Q-value (the loop adds ``action_space.start``); one unbatched observation gives
          a 0-d array.

        Observations reach both as uint8 arrays (uint8 or boolean spaces) or float32 arrays;
        casting and scaling are the network's job. For image observations (a Box with three
        axes) the constructor also receives ``channels_first`` (bool), the layout dqn settled on.
        The default builds convolutions for images and an MLP for everything else.

    Args:
        env_fn (callable): Returns a new Gymnasium environment with a Discrete action space.
            Image observations (a Box with three axes) stay images; any other observation is
            flattened into a vector.
        actor_critic (type): Builds the Q-network, as described above.
        ac_kwargs (dict): Extra keyword arguments for ``actor_critic``. The default takes
            ``hidden_sizes`` (default (64, 64): the MLP's widths, after the convolutions for
            images) and ``activation`` (default ``flax.nnx.relu``). These widths are a quarter of
            DDPG's, TD3's and SAC's (256, 256): DQN's usual tasks need no more, and it runs
            several times faster on a CPU.
        seed (int): Seeds JAX (the initial weights), numpy, the training environment and its
            action space. The test
            environment gets ``seed + 10000``, so its episodes start elsewhere.
        steps_per_epoch (int): Environment steps in one epoch; a row of ``progress.txt`` is
            written after each.
        epochs (int): How many epochs to train for.
        replay_size (int): How many transitions the buffer keeps before overwriting the oldest.
            Each holds two observations, so image tasks usually want 1e5 or less; a buffer too
            big for the free memory is refused before it is allocated.
        gamma (float): Discount factor, in [0, 1].
        lr (float): Adam's learning rate for the Q-network.
        batch_size (int): Transitions in each minibatch.
        update_after (int): Steps of experience to gather before the first gradient step, so
            that early minibatches do not keep drawing the same few transitions.
        update_every (int): Steps between bursts of updates. Each burst takes ``update_every``
            gradient steps, so from ``update_after`` on there is one gradient step per
            environment step however the updates are grouped.
        eps_start (float): Chance of a uniformly random action at step 0 (epsilon-greedy).
        eps_end (float): Chance of a random action once the schedule has run out.
        eps_decay_steps (int): Steps over which epsilon falls in a straight line from
            ``eps_start`` to ``eps_end``; after them it stays at ``eps_end``.
        target_update_every (int): Steps between hard copies of the Q-network into the target
            network, as in the original DQN. Not used when ``polyak`` is given.
        polyak (float or None): Given, the target network instead moves a little towards the
            Q-network after every gradient step, as in DDPG, TD3 and SAC:

            .. math:: \\phi_{\\text{targ}} \\leftarrow \\phi_{\\text{targ}} + (1 - \\rho)(\\phi - \\phi_{\\text{targ}})

            with :math:`\\phi` the Q-network's parameters and :math:`\\rho` = ``polyak`` (0.995, say).
        double_dqn (bool): Let the online network choose the next action and the target network
            value it (Double DQN). ``False`` gives the original target, where the target
            network does both.
        num_test_episodes (int): Episodes of the greedy policy, with no random actions, run in
            the test environment after each epoch. They draw no random numbers, so their number
            leaves the training run unchanged.
        max_ep_len (int or None): The most steps a training or test episode may last. ``None``
            (the default) takes the environment's own time limit, ``env.spec.max_episode_steps``,
            where it declares one (500 for CartPole-v1), and 1000 where it declares none, since
            a greedy test episode may otherwise never end. MinAtar declares no limits; spinup
            gives Freeway its 2500 steps, and the other MinAtar games take the 1000.
            An episode stopped by ``max_ep_len`` counts as truncated: its last transition is
            stored as not done, so the target bootstraps from its final state.
        logger_kwargs (dict): Keyword arguments for ``EpochLogger``.
        save_freq (int): Save the Q-network every ``save_freq`` epochs, and always after the
            last one.
        device (str): Where the network lives and the update runs: ``'cpu'``, ``'cuda'`` (or
            ``'cuda:N'``), or ``'auto'`` (a GPU if JAX sees one). The replay buffer stays in host
            memory, as numpy arrays; saved models always hold CPU arrays.
        resume (str): A run directory to continue from its last checkpoint (written every
            ``save_freq`` epochs, with the replay buffer while it holds at most 1e6 transitions);
            pass the run's other arguments unchanged.
        channels_first (bool or None): The layout of image observations: ``True`` for CxHxW,
            ``False`` for HxWxC. ``None`` decides from the source (MinAtar gives HxWxC; stacked
            frames from ``FrameStackObservation`` are CxHxW) or else from the shape, and refuses
            a shape whose first and last axes are equally long. Ignored for vector observations.
    """
    check_positive_ints(steps_per_epoch=steps_per_epoch, epochs=epochs, replay_size=replay_size,
                        batch_size=batch_size, update_every=update_every, eps_decay_steps=eps_decay_steps,
                        target_update_every=target_update_every, num_test_episodes=num_test_episodes,
                        save_freq=save_freq)
    if max_ep_len is not None:
        check_positive_ints(max_ep_len=max_ep_len)
    check_nonnegative_ints(update_after=update_after)
    check_unit_interval(gamma=gamma, eps_start=eps_start, eps_end=eps_end)
    is_fraction = isinstance(polyak, (int, float)) and not isinstance(polyak, bool) and 0 <= polyak <= 1
    check(polyak is None or is_fraction,
          f"polyak must be None (hard target copies) or a number between 0 and 1, not {polyak!r}.")
    check_positive_numbers(lr=lr)
    check_seed(seed)
    check(channels_first is None or isinstance(channels_first, bool),
          f"channels_first must be None, True or False, not {channels_first!r}.")

    # The logger, and config.json with every argument of this run
    logger = EpochLogger(**logger_kwargs, resume=resume)
    logger.save_config(locals())

    # The network lives on one device; the replay buffer stays on the host
    device = core.get_device(device)

    # Seed the initial weights' key and numpy's global generator (epsilon-greedy, the buffer)
    init_key = jax.random.PRNGKey(seed)
    np.random.seed(seed)

    # One environment to train in, one for test episodes. Images stay images (for the
    # convolutional Q-network); any other observation becomes a flat vector.
    def make_env():
        env = setup_env(env_fn, "dqn", flatten=False)
        return env if core.is_image_space(env.observation_space) else flatten_observations(env)

    env, test_env = make_env(), make_env()
    obs_shape = env.observation_space.shape
    if max_ep_len is None:
        # The env's own time limit where it declares one, else 1000 so that a greedy test
        # episode that never ends (MinAtar Seaquest's sub can idle forever) cannot hang the run
        max_ep_len = (env.spec.max_episode_steps if env.spec is not None else None) or 1000

    # Environments may number their actions from start (Discrete(n, start=k)); the buffer and
    # the Q-network's columns count from 0
    act_start = int(env.action_space.start)

    # Images (uint8 pixels, or MinAtar's boolean channels) are stored as uint8, everything else as float32
    obs_dtype = np.uint8 if env.observation_space.dtype in (np.uint8, np.bool_) else np.float32

    # The Q-network learns; the target network, a copy, supplies the targets
    if core.is_image_space(env.observation_space):
        # The layout is settled here, where the env is known, and saved with the model's arguments
        ac_kwargs = dict(ac_kwargs, channels_first=image_channels_first(
            env, ac_kwargs.get("channels_first") if channels_first is None else channels_first))
    ac = actor_critic(env.observation_space, env.action_space, rngs=nnx.Rngs(init_key), **ac_kwargs)

    # The network split into its structure (graphdef) and its parameters, a pytree of arrays that
    # the jitted update takes and returns. The target network is a second set of parameters,
    # changed only by copies (or polyak averaging), never by the optimizer.
    graphdef, state = nnx.split(ac)
    params = jax.device_put(dict(state), device)
    targ_params = jax.tree.map(jnp.copy, params)

    # Replay buffer, refused in one sentence when it would not fit in memory: a transition holds
    # two observations, an int32 action, and float32 reward and done
    obs_bytes = int(np.prod(obs_shape)) * np.dtype(obs_dtype).itemsize
    check_replay_fits("dqn", replay_size, 2 * obs_bytes + 4 + 4 + 4)
    replay_buffer = ReplayBuffer(obs_shape=obs_shape, obs_dtype=obs_dtype, size=replay_size)

    # Say how big the network is
    logger.log("\nNumber of parameters: \t q: %d\n" % core.count_vars(ac.q))

    # DQN's loss on a batch: Huber loss between Q(s, a) and the target
    def compute_loss_q(params, targ_params, data):
        ac, ac_targ = nnx.merge(graphdef, nnx.State(params)), nnx.merge(graphdef, nnx.State(targ_params))
        o, a = data["obs"], data["act"]
        q = jnp.take_along_axis(ac.q(o), a[:, None], axis=-1).squeeze(-1)

        # The target, from the frozen network
        backup = compute_q_target(data, ac, ac_targ, gamma, double_dqn)

        # Huber loss: squared for TD errors within 1, linear beyond, so outliers give bounded gradients
        loss_q = optax.huber_loss(q, backup, delta=1.0).mean()

        # Q-values for the epoch's statistics
        loss_info = dict(QVals=q)

        return loss_q, loss_info

    # Adam for the Q-network; its state is a pytree too, taken and returned by the update
    q_optimizer = optax.adam(lr)
    q_opt_state = q_optimizer.init(params)

    # Everything the update changes, held in one place: the loop puts each update's results
    # back here, and the checkpoint saves it as plain arrays. All of it is placed on the device
    # now, as the update's results are: jit compiles for where its inputs live, and a first call
    # with some arrays not yet placed would compile the update (and acting) a second time.
    ts = JaxState(**jax.device_put(dict(
        params=params, targ_params=targ_params, q_opt_state=q_opt_state), device))

    # What model.pt holds, and what a checkpoint holds for resuming
    logger.setup_jax_saver(ac, env=env, ac_kwargs=ac_kwargs)
    logger.setup_checkpoint(env=env, test_env=test_env, train_state=ts, replay_buffer=replay_buffer)

    # One gradient step on the Q-network: a pure function of the arrays it takes
    def update(params, targ_params, q_opt_state, data):
        (loss_q, loss_info), grads = jax.value_and_grad(compute_loss_q, has_aux=True)(params, targ_params, data)
        updates, q_opt_state = q_optimizer.update(grads, q_opt_state)
        params = optax.apply_updates(params, updates)

        # With polyak given, the target network follows by polyak averaging.
        if polyak is not None:
            targ_params = core.polyak_update(params, targ_params, polyak)

        return params, targ_params, q_opt_state, dict(LossQ=loss_q, **loss_info)

    # A burst of update_every updates, compiled once as one loop over a stack of batches. On the
    # CPU, convolutions run far more slowly inside a compiled loop, so a network with any takes
    # its burst as a Python loop of jitted updates instead (see spinup.utils.jax_burst).
    has_conv = device.platform == "cpu" and any(isinstance(m, nnx.Conv) for _, m in nnx.iter_modules(ac))
    update_burst = (loop_updates if has_conv else scan_updates)(update, n_state=3)

    @jax.jit
    def act(params, o):
        return nnx.merge(graphdef, nnx.State(params)).act(o)

    def epsilon_at(t):
        # Falls linearly from eps_start to eps_end over eps_decay_steps, then stays at eps_end
        frac = min(t / eps_decay_steps, 1.0)
        return eps_start + frac * (eps_end - eps_start)

    def get_action(o, epsilon):
        # At epsilon = 0 (test episodes) no random number is drawn, so testing leaves the
        # training run's random stream where it was
        if epsilon > 0 and np.random.rand() < epsilon:
            return env.action_space.sample()
        return int(act(ts.params, np.asarray(o, dtype=obs_dtype))) + act_start

    def test_agent():
        for j in range(num_test_episodes):
            o, _ = test_env.reset()
            terminated, truncated, ep_ret, ep_len = False, False, 0, 0
            while not (terminated or truncated or ep_len == max_ep_len):
                # Greedy actions only: epsilon = 0
                o, r, terminated, truncated, _ = test_env.step(get_action(o, 0))
                ep_ret += r
                ep_len += 1
            logger.store(TestEpRet=ep_ret, TestEpLen=ep_len)

    # The first episode; a resumed run carries on with the one it saved instead
    total_steps = steps_per_epoch * epochs
    start_time = time.time()
    o, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    test_env.reset(seed=seed + 10000)
    ep_ret, ep_len, start_epoch = 0, 0, 0
    if resume:  # continue a stopped run where its last checkpoint left off
        start_epoch, o, ep_ret, ep_len = logger.restore_checkpoint()

    # One environment step per iteration; updates, target copies and the epoch's row when due
    for t in range(start_epoch * steps_per_epoch, total_steps):
        # Epsilon-greedy: a uniformly random action with probability epsilon, else the greedy one.
        epsilon = epsilon_at(t)
        a = get_action(o, epsilon)

        # Step the env
        next_o, r, terminated, truncated, _ = env.step(a)
        ep_ret += r
        ep_len += 1

        # Store the transition, with the action as an index from 0. Only a termination is
        # "done": a time-limit cut-off (truncated) is not, and its backup bootstraps from next_o,
        # the real next observation.
        replay_buffer.store(o, a - act_start, r, next_o, terminated)

        # The next step starts from where this one ended
        o = next_o

        # At the end of an episode: log its return and length, and start a new one
        truncated = truncated or ep_len == max_ep_len
        if terminated or truncated:
            logger.store(EpRet=ep_ret, EpLen=ep_len)
            o, _ = env.reset()
            ep_ret, ep_len = 0, 0

        # Every update_every steps, once there is enough data: a burst of update_every updates
        if t >= update_after and t % update_every == 0:
            batches = stack_batches([replay_buffer.sample_batch(batch_size) for j in range(update_every)])
            ts.params, ts.targ_params, ts.q_opt_state, info = update_burst(ts.params, ts.targ_params, ts.q_opt_state,
                                                                           batches)
            # Keep the numbers for this epoch's row, each stacked over the burst's steps
            logger.store(**info)

        # Target network handling: without polyak, a hard copy every target_update_every steps
        if polyak is None and t % target_update_every == 0:
            ts.targ_params = jax.tree.map(jnp.copy, ts.params)

        # At the end of an epoch: save, test, and write the epoch's row
        if (t + 1) % steps_per_epoch == 0:
            epoch = (t + 1) // steps_per_epoch

            # The module the logger saves (and checks for NaN) takes the parameters trained so far
            nnx.update(ac, nnx.State(ts.params))

            # model.pt, every save_freq epochs and after the last
            if (epoch % save_freq == 0) or (epoch == epochs):
                logger.save_state({}, None)

            # How well the greedy policy does now
            test_agent()

            # One row of progress.txt
            logger.log_tabular("Epoch", epoch)
            logger.log_tabular("EpRet", with_min_and_max=True)
            logger.log_tabular("TestEpRet", with_min_and_max=True)
            logger.log_tabular("EpLen", average_only=True)
            logger.log_tabular("TestEpLen", average_only=True)
            logger.log_tabular("TotalEnvInteracts", t + 1)
            logger.log_tabular("QVals", with_min_and_max=True)
            logger.log_tabular("LossQ", average_only=True)
            logger.log_tabular("Epsilon", epsilon)
            logger.log_tabular("Time", time.time() - start_time)
            logger.dump_tabular()

            # Checkpoint for resuming (every save_freq epochs, and on Ctrl-C)
            logger.save_checkpoint(epoch, o, ep_ret, ep_len)


if __name__ == "__main__":
    import argparse

    from spinup.utils.envs import make_env_fn
    from spinup.utils.run_utils import setup_logger_kwargs

    parser = argparse.ArgumentParser()
    parser.add_argument("--env", type=str, default="CartPole-v1")
    parser.add_argument("--hid", type=int, default=64)
    parser.add_argument("--l", type=int, default=2)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--seed", "-s", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--device", type=str, default="cpu")
    parser.add_argument("--exp_name", type=str, default="dqn")
    args = parser.parse_args()

    dqn(make_env_fn(args.env), actor_critic=core.QNetwork,
        ac_kwargs=dict(hidden_sizes=[args.hid] * args.l), gamma=args.gamma,
        seed=args.seed, epochs=args.epochs, device=args.device,
        logger_kwargs=setup_logger_kwargs(args.exp_name, args.seed))
