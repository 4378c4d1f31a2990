"""Deep Q-Network (DQN), with optional Double DQN targets, in PyTorch."""

import time
from copy import deepcopy

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim import Adam

import spinup.algos.pytorch.dqn.core as core
from spinup.utils.checks import (check, check_nonnegative_ints, check_positive_ints, check_positive_numbers,
                                 check_seed, check_unit_interval)
from spinup.utils.envs import flatten_observations, setup_env
from spinup.utils.logx import EpochLogger
from spinup.utils.mpi_pytorch import setup_pytorch_for_mpi


class ReplayBuffer:
    """A first-in, first-out store of transitions, kept as tensors on ``device`` and sampled uniformly.

    Observations are stored with ``obs_dtype``: uint8 for images, a quarter of the memory of
    float32; the Q-network casts them to float when it reads them.
    """

    def __init__(self, obs_shape, obs_dtype, size, device):
        self.obs_buf = torch.zeros(core.combined_shape(size, obs_shape), dtype=obs_dtype, device=device)
        self.obs2_buf = torch.zeros(core.combined_shape(size, obs_shape), dtype=obs_dtype, device=device)
        self.act_buf = torch.zeros(size, dtype=torch.int64, device=device)
        self.rew_buf = torch.zeros(size, dtype=torch.float32, device=device)
        self.done_buf = torch.zeros(size, dtype=torch.float32, device=device)
        self.ptr, self.size, self.max_size = 0, 0, size

    def store(self, obs, act, rew, next_obs, done):
        """Append one transition, overwriting the oldest once the buffer is full.

        ``done`` must be true only when the episode *terminated* (the state has no future). A
        time-limit cut-off is stored with ``done=False``, so the backup bootstraps from ``next_obs``.
        """
        self.obs_buf[self.ptr] = torch.as_tensor(obs)
        self.obs2_buf[self.ptr] = torch.as_tensor(next_obs)
        self.act_buf[self.ptr] = int(act)
        self.rew_buf[self.ptr] = float(rew)
        self.done_buf[self.ptr] = float(done)
        self.ptr = (self.ptr + 1) % self.max_size
        self.size = min(self.size + 1, self.max_size)

    def sample_batch(self, batch_size=32):
        """``batch_size`` transitions drawn uniformly, with replacement, from those stored."""
        idxs = torch.randint(0, self.size, (batch_size,), device=self.rew_buf.device)
        return dict(obs=self.obs_buf[idxs], obs2=self.obs2_buf[idxs], act=self.act_buf[idxs],
                    rew=self.rew_buf[idxs], done=self.done_buf[idxs])


@torch.no_grad()
def compute_q_target(data, ac, ac_targ, gamma, double_dqn):
    """The DQN backup for a batch: y = r + gamma * (1 - d) * Q_targ(s', a'), with a' the greedy action.

    Plain DQN picks a' = argmax_a Q_targ(s', a) with the target network itself. Double DQN picks
    a' = argmax_a Q(s', a) with the online network and lets the target network evaluate it, which
    removes most of the max's upward bias.
    """
    r, o2, d = data["rew"], data["obs2"], data["done"]
    q_targ_next = ac_targ.q(o2)

    # The greedy next action, picked by the online network (Double DQN) or the target network
    a2 = ac.q(o2).argmax(dim=-1) if double_dqn else q_targ_next.argmax(dim=-1)

    # Target Q-values
    q_pi_targ = q_targ_next.gather(-1, a2.unsqueeze(-1)).squeeze(-1)
    return r + gamma * (1 - d) * q_pi_targ


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
    max_ep_len=1000,
    logger_kwargs=dict(),
    save_freq=1,
    device="cpu",
    resume=None,
):
    """
    Deep Q-Network (DQN), with Double DQN targets by default

    Args:
        env_fn : A function which creates a copy of the environment. The environment must satisfy
            the Gymnasium API and have a Discrete action space. Image observations (a Box with three
            axes, HxWxC or CxHxW) are kept as images; other observations are flattened to vectors.

        actor_critic: The constructor method for a PyTorch Module with an ``act`` method and a
            ``q`` module, built as ``actor_critic(observation_space, action_space, **ac_kwargs)``
            (named as in the other algorithms, though DQN has no actor). Both accept a batch of
            observations; when called, they should return:

            ===========  ================  ======================================
            Call         Output Shape      Description
            ===========  ================  ======================================
            ``act``      (batch,)          | Numpy array of greedy actions
                                           | argmax_a Q(s, a) (on the CPU).
            ``q``        (batch, n_acts)   | Tensor containing the current estimate
                                           | of Q* for every action in each of the
                                           | provided observations.
            ===========  ================  ======================================

            The default builds a convolutional ``q`` for image observations and an MLP otherwise.

        ac_kwargs (dict): Any kwargs appropriate for the ActorCritic object you provided to DQN
            (for the default: ``hidden_sizes``, default (64, 64), the MLP's widths, after the
            convolutions for images; and ``activation``, default ``torch.nn.ReLU``). The MLP is
            smaller than DDPG's, TD3's and SAC's (256, 256): DQN's tasks need less, and it runs
            several times faster on a CPU.

        seed (int): Seed for random number generators. The test environment is seeded with
            ``seed + 10000``, so test episodes start from other states than training ones.

        steps_per_epoch (int): Number of steps of interaction (state-action pairs) for the agent
            and the environment in each epoch.

        epochs (int): Number of epochs to run and train agent.

        replay_size (int): Maximum length of replay buffer. (Image tasks often use 1e5: each
            stored transition holds two images.)

        gamma (float): Discount factor. (Always between 0 and 1.)

        lr (float): Learning rate for the Q-network (Adam).

        batch_size (int): Minibatch size for SGD.

        update_after (int): Number of env interactions to collect before starting to do gradient
            descent updates. Ensures replay buffer is full enough for useful updates.

        update_every (int): Number of env interactions that should elapse between gradient descent
            updates. Note: Regardless of how long you wait between updates, the ratio of env steps
            to gradient steps is locked to 1.

        eps_start (float): Probability of a uniformly random action at the first step
            (epsilon-greedy exploration).

        eps_end (float): Probability of a random action once the schedule has ended.

        eps_decay_steps (int): Number of env steps over which epsilon decreases linearly from
            ``eps_start`` to ``eps_end``; it stays at ``eps_end`` afterwards.

        target_update_every (int): Number of env steps between hard copies of the Q-network into
            the target network (the original DQN's target update). Ignored when ``polyak`` is given.

        polyak (float or None): If given, the target network instead follows the Q-network by
            polyak averaging after every gradient step,

            .. math:: \\theta_{\\text{targ}} \\leftarrow \\rho \\theta_{\\text{targ}} + (1-\\rho) \\theta

            with :math:`\\rho` = polyak (e.g. 0.995), as DDPG, TD3 and SAC do.

        double_dqn (bool): Use Double DQN targets (the online network picks the next action, the
            target network evaluates it). ``False`` gives the original DQN target.

        num_test_episodes (int): Number of episodes to test the greedy policy (no random actions)
            at the end of each epoch.

        max_ep_len (int): Maximum length of trajectory / episode / rollout. An episode cut off here
            is treated like a Gymnasium time-limit truncation: its last transition is stored as not
            done, so its value is bootstrapped.

        logger_kwargs (dict): Keyword args for EpochLogger.

        save_freq (int): How often (in terms of gap between epochs) to save the current
            Q-network. The last epoch is always saved.

        device (str): Where the network and the replay buffer live: ``'cpu'``, ``'cuda'`` (or
            ``'cuda:N'``), or ``'auto'`` (a GPU if PyTorch sees one). Numpy arrays appear only at the
            environment's boundary; saved models always hold CPU tensors.

        resume (str): A run directory to continue from its last checkpoint (written every
            ``save_freq`` epochs, with the replay buffer while it holds at most 1e6 transitions);
            pass the run's other arguments unchanged.
    """
    check_positive_ints(steps_per_epoch=steps_per_epoch, epochs=epochs, replay_size=replay_size,
                        batch_size=batch_size, update_every=update_every, eps_decay_steps=eps_decay_steps,
                        target_update_every=target_update_every, num_test_episodes=num_test_episodes,
                        max_ep_len=max_ep_len, save_freq=save_freq)
    check_nonnegative_ints(update_after=update_after)
    check_unit_interval(gamma=gamma, eps_start=eps_start, eps_end=eps_end)
    is_fraction = isinstance(polyak, (int, float)) and not isinstance(polyak, bool) and 0 <= polyak <= 1
    check(polyak is None or is_fraction,
          f"polyak must be None (hard target copies) or a number between 0 and 1, not {polyak!r}.")
    check_positive_numbers(lr=lr)
    check_seed(seed)

    # Special function to avoid certain slowdowns from PyTorch + MPI combo.
    setup_pytorch_for_mpi()

    # Set up logger and save configuration
    logger = EpochLogger(**logger_kwargs, resume=resume)
    logger.save_config(locals())

    # Network and replay buffer live on one device; numpy appears only at the env's boundary
    device = core.get_device(device)

    # Random seed
    torch.manual_seed(seed)
    np.random.seed(seed)

    # Instantiate environment, and a second one for test episodes. Images stay images (for the
    # convolutional Q-network); any other observation becomes a flat vector.
    def make_env():
        env = setup_env(env_fn, "dqn", flatten=False)
        return env if core.is_image_space(env.observation_space) else flatten_observations(env)

    env, test_env = make_env(), make_env()
    obs_shape = env.observation_space.shape

    # Images (uint8 pixels, or MinAtar's boolean channels) are stored as uint8, everything else as float32
    obs_dtype = torch.uint8 if env.observation_space.dtype in (np.uint8, np.bool_) else torch.float32

    # Create Q-network module and target network
    ac = actor_critic(env.observation_space, env.action_space, **ac_kwargs).to(device)
    ac_targ = deepcopy(ac)

    # Freeze target network with respect to the optimizer (only update via copies or polyak averaging)
    for p in ac_targ.parameters():
        p.requires_grad = False
    # The parameter lists that polyak averaging pairs up, made once
    params, targ_params = list(ac.parameters()), list(ac_targ.parameters())

    # Experience buffer
    replay_buffer = ReplayBuffer(obs_shape=obs_shape, obs_dtype=obs_dtype, size=replay_size, device=device)

    # Count variables
    logger.log("\nNumber of parameters: \t q: %d\n" % core.count_vars(ac.q))

    # Set up function for computing the DQN Q-loss
    def compute_loss_q(data):
        o, a = data["obs"], data["act"]
        q = ac.q(o).gather(-1, a.unsqueeze(-1)).squeeze(-1)

        # Bellman backup for Q function
        backup = compute_q_target(data, ac, ac_targ, gamma, double_dqn)

        # Huber loss against Bellman backup: squared for TD errors within 1, linear beyond
        loss_q = F.huber_loss(q, backup, delta=1.0)

        # Useful info for logging
        loss_info = dict(QVals=q.detach())

        return loss_q, loss_info

    # Set up optimizer for the Q-network
    # (fused: Adam updates all parameters in one kernel, faster for many small steps)
    q_optimizer = Adam(ac.q.parameters(), lr=lr, fused=True)

    # Set up model saving
    logger.setup_pytorch_saver(ac, env=env, ac_kwargs=ac_kwargs)
    logger.setup_checkpoint(env=env, test_env=test_env, ac=ac, ac_targ=ac_targ, q_optimizer=q_optimizer,
                            replay_buffer=replay_buffer)

    def update(data):
        # Run one gradient descent step for Q.
        q_optimizer.zero_grad()
        loss_q, loss_info = compute_loss_q(data)
        loss_q.backward()
        q_optimizer.step()

        # Record things
        logger.store(LossQ=loss_q.item(), **loss_info)

        # With polyak given, the target network follows by polyak averaging.
        if polyak is not None:
            core.polyak_update(params, targ_params, polyak)

    def epsilon_at(t):
        # Linear decay from eps_start to eps_end over eps_decay_steps, then constant
        frac = min(t / eps_decay_steps, 1.0)
        return eps_start + frac * (eps_end - eps_start)

    def get_action(o, epsilon):
        if np.random.rand() < epsilon:
            return env.action_space.sample()
        return int(ac.act(torch.as_tensor(o, device=device)))

    def test_agent():
        for j in range(num_test_episodes):
            o, _ = test_env.reset()
            terminated, truncated, ep_ret, ep_len = False, False, 0, 0
            while not (terminated or truncated or ep_len == max_ep_len):
                # Take greedy actions at test time (epsilon=0)
                o, r, terminated, truncated, _ = test_env.step(get_action(o, 0))
                ep_ret += r
                ep_len += 1
            logger.store(TestEpRet=ep_ret, TestEpLen=ep_len)

    # Prepare for interaction with environment
    total_steps = steps_per_epoch * epochs
    start_time = time.time()
    o, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    test_env.reset(seed=seed + 10000)
    ep_ret, ep_len, start_epoch = 0, 0, 0
    if resume:  # continue a stopped run where its last checkpoint left off
        start_epoch, o, ep_ret, ep_len = logger.restore_checkpoint()

    # Main loop: collect experience in env and update/log each epoch
    for t in range(start_epoch * steps_per_epoch, total_steps):
        # Epsilon-greedy: a uniformly random action with probability epsilon, else the greedy one.
        epsilon = epsilon_at(t)
        a = get_action(o, epsilon)

        # Step the env
        next_o, r, terminated, truncated, _ = env.step(a)
        ep_ret += r
        ep_len += 1

        # Store experience to replay buffer. Only a termination is "done": a time-limit cut-off
        # (truncated) is not, and its backup bootstraps from next_o, the real next observation.
        replay_buffer.store(o, a, r, next_o, terminated)

        # Super critical, easy to overlook step: make sure to update
        # most recent observation!
        o = next_o

        # End of trajectory handling
        truncated = truncated or ep_len == max_ep_len
        if terminated or truncated:
            logger.store(EpRet=ep_ret, EpLen=ep_len)
            o, _ = env.reset()
            ep_ret, ep_len = 0, 0

        # Update handling
        if t >= update_after and t % update_every == 0:
            for j in range(update_every):
                batch = replay_buffer.sample_batch(batch_size)
                update(data=batch)

        # Target network handling: without polyak, a hard copy every target_update_every steps
        if polyak is None and t % target_update_every == 0:
            ac_targ.load_state_dict(ac.state_dict())

        # End of epoch handling
        if (t + 1) % steps_per_epoch == 0:
            epoch = (t + 1) // steps_per_epoch

            # Save model
            if (epoch % save_freq == 0) or (epoch == epochs):
                logger.save_state({}, None)

            # Test the performance of the greedy version of the agent.
            test_agent()

            # Log info about epoch
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
