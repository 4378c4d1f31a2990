"""Exercise 2.2: find the bug in this DDPG.

This file is a copy of spinup's DDPG, networks included, with one bug added. Nothing crashes: it
runs, logs and saves like the real one, but it does not learn. Bugs like this are the hard part of
deep RL; the way to find them is to check what every quantity means and what shape it has, not to
stare at learning curves.

Your task: find the bug and fix it in your copy of this file (please don't diff it against
spinup/algos/pytorch/ddpg/: reason it out). Hints, from vague to precise, are in the exercise's
section of the docs.

Check your work: the checker trains your copy and the reference DDPG on Pendulum-v1 with the same
seeds and passes when yours learns as well (a few minutes; --quick runs one seed):

    spinup exercise 2.2 --file path/to/your/copy/of/exercise2_2.py [--quick]

Or train it yourself: ``python exercise2_2.py --env Pendulum-v1 --epochs 10`` and
``spinup plot data/exercise2_2``.
"""

import time
from copy import deepcopy

import numpy as np
import torch
import torch.nn as nn
from torch.optim import Adam

import spinup.algos.pytorch.ddpg.core as core
from spinup.utils.checks import (check, check_nonnegative_ints, check_positive_ints, check_positive_numbers,
                                 check_seed, check_unit_interval)
from spinup.utils.envs import setup_env
from spinup.utils.logx import EpochLogger
from spinup.utils.mpi_pytorch import setup_pytorch_for_mpi


class MLPQFunction(nn.Module):
    """The action-value function Q(s, a)."""

    def __init__(self, obs_dim, act_dim, hidden_sizes, activation):
        super().__init__()
        self.q = core.mlp([obs_dim + act_dim, *hidden_sizes, 1], activation)

    def forward(self, obs, act):
        return self.q(torch.cat([obs, act], dim=-1))


class MLPActorCritic(nn.Module):
    """A deterministic policy ``pi`` and a Q-function ``q``, each its own MLP."""

    def __init__(self, observation_space, action_space, hidden_sizes=(256, 256), activation=nn.ReLU):
        super().__init__()
        obs_dim = observation_space.shape[0]
        act_dim = action_space.shape[0]
        act_limit = float(action_space.high[0])
        self.pi = core.MLPActor(obs_dim, act_dim, hidden_sizes, activation, act_limit)
        self.q = MLPQFunction(obs_dim, act_dim, hidden_sizes, activation)

    def act(self, obs, deterministic=False):
        """mu(obs) as a numpy array on the CPU. The policy is deterministic, so ``deterministic`` is ignored."""
        with torch.no_grad():
            return self.pi(obs).cpu().numpy()


class ReplayBuffer:
    """A first-in, first-out store of transitions, kept as tensors on ``device`` and sampled uniformly."""

    def __init__(self, obs_dim, act_dim, size, device):
        self.obs_buf = torch.zeros(core.combined_shape(size, obs_dim), dtype=torch.float32, device=device)
        self.obs2_buf = torch.zeros(core.combined_shape(size, obs_dim), dtype=torch.float32, device=device)
        self.act_buf = torch.zeros(core.combined_shape(size, act_dim), dtype=torch.float32, device=device)
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
        self.act_buf[self.ptr] = torch.as_tensor(act)
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
def compute_q_target(data, ac_targ, gamma):
    """The DDPG backup for a batch: y = r + gamma * (1 - d) * Q_targ(s', mu_targ(s'))."""
    r, o2, d = data["rew"], data["obs2"], data["done"]
    q_pi_targ = ac_targ.q(o2, ac_targ.pi(o2))
    return r + gamma * (1 - d) * q_pi_targ


def ddpg(
    env_fn,
    actor_critic=MLPActorCritic,
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
    num_test_episodes=10,
    max_ep_len=1000,
    logger_kwargs=dict(),
    save_freq=1,
    device="cpu",
    resume=None,
):
    """
    Deep Deterministic Policy Gradient (DDPG)

    Args:
        env_fn : A function which creates a copy of the environment. The environment must satisfy
            the Gymnasium API and have a Box action space with the same bounds ``[-a, a]`` in every
            dimension (``gymnasium.wrappers.RescaleAction`` makes any Box so).

        actor_critic: The constructor method for a PyTorch Module with an ``act`` method, a ``pi``
            module, and a ``q`` module, built as
            ``actor_critic(observation_space, action_space, **ac_kwargs)``. The ``act`` method and
            ``pi`` module should accept batches of observations as inputs, and ``q`` should accept
            a batch of observations and a batch of actions as inputs. When called, these should
            return:

            ===========  ================  ======================================
            Call         Output Shape      Description
            ===========  ================  ======================================
            ``act``      (batch, act_dim)  | Numpy array of actions for each
                                           | observation (on the CPU).
            ``pi``       (batch, act_dim)  | Tensor containing actions from policy
                                           | given observations.
            ``q``        (batch,)          | Tensor containing the current estimate
                                           | of Q* for the provided observations
                                           | and actions. (Critical: make sure to
                                           | flatten this!)
            ===========  ================  ======================================

        ac_kwargs (dict): Any kwargs appropriate for the ActorCritic object you provided to DDPG
            (for the default: ``hidden_sizes``, default (256, 256), and ``activation``, default
            ``torch.nn.ReLU``).

        seed (int): Seed for random number generators. The test environment is seeded with
            ``seed + 10000``, so test episodes start from other states than training ones.

        steps_per_epoch (int): Number of steps of interaction (state-action pairs) for the agent
            and the environment in each epoch.

        epochs (int): Number of epochs to run and train agent.

        replay_size (int): Maximum length of replay buffer.

        gamma (float): Discount factor. (Always between 0 and 1.)

        polyak (float): Interpolation factor in polyak averaging for target networks. Target
            networks are updated towards main networks according to:

            .. math:: \\theta_{\\text{targ}} \\leftarrow \\rho \\theta_{\\text{targ}} + (1-\\rho) \\theta

            where :math:`\\rho` is polyak. (Always between 0 and 1, usually close to 1: 0.995 means
            a step of 0.005 towards the main network.)

        pi_lr (float): Learning rate for policy.

        q_lr (float): Learning rate for Q-networks.

        batch_size (int): Minibatch size for SGD.

        start_steps (int): Number of steps for uniform-random action selection, before running
            real policy. Helps exploration.

        update_after (int): Number of env interactions to collect before starting to do gradient
            descent updates. Ensures replay buffer is full enough for useful updates.

        update_every (int): Number of env interactions that should elapse between gradient descent
            updates. Note: Regardless of how long you wait between updates, the ratio of env steps
            to gradient steps is locked to 1.

        act_noise (float): Stddev for Gaussian exploration noise added to policy at training time.
            (At test time, no noise is added.)

        num_test_episodes (int): Number of episodes to test the deterministic policy at the end of
            each epoch.

        max_ep_len (int): Maximum length of trajectory / episode / rollout. An episode cut off here
            is treated like a Gymnasium time-limit truncation: its last transition is stored as not
            done, so its value is bootstrapped.

        logger_kwargs (dict): Keyword args for EpochLogger.

        save_freq (int): How often (in terms of gap between epochs) to save the current policy and
            value function. The last epoch is always saved.

        device (str): Where the networks and the replay buffer live: ``'cpu'``, ``'cuda'`` (or
            ``'cuda:N'``), or ``'auto'`` (a GPU if PyTorch sees one). Numpy arrays appear only at the
            environment's boundary; saved models always hold CPU tensors.

        resume (str): A run directory to continue from its last checkpoint (written every
            ``save_freq`` epochs, with the replay buffer while it holds at most 1e6 transitions);
            pass the run's other arguments unchanged.
    """
    check_positive_ints(steps_per_epoch=steps_per_epoch, epochs=epochs, replay_size=replay_size,
                        batch_size=batch_size, update_every=update_every,
                        num_test_episodes=num_test_episodes, max_ep_len=max_ep_len, save_freq=save_freq)
    check_nonnegative_ints(start_steps=start_steps, update_after=update_after)
    check_unit_interval(gamma=gamma, polyak=polyak)
    check_positive_numbers(pi_lr=pi_lr, q_lr=q_lr)
    check(isinstance(act_noise, (int, float)) and act_noise >= 0,
          f"act_noise must be a number >= 0, not {act_noise!r}.")
    check_seed(seed)

    # Special function to avoid certain slowdowns from PyTorch + MPI combo.
    setup_pytorch_for_mpi()

    # Set up logger and save configuration
    logger = EpochLogger(**logger_kwargs, resume=resume)
    logger.save_config(locals())

    # Networks and replay buffer live on one device; numpy appears only at the env's boundary
    device = core.get_device(device)

    # Random seed
    torch.manual_seed(seed)
    np.random.seed(seed)

    # Instantiate environment, and a second one for test episodes
    env, test_env = setup_env(env_fn, "ddpg"), setup_env(env_fn, "ddpg")
    obs_dim = env.observation_space.shape
    act_dim = env.action_space.shape[0]

    # Action limit for clamping: critically, assumes all dimensions share the same bound!
    act_limit = float(env.action_space.high[0])
    check(
        np.all(env.action_space.low == -act_limit) and np.all(env.action_space.high == act_limit),
        f"ddpg needs the same bounds [-a, a] in every action dimension, not {env.action_space}; wrap the "
        "environment in gymnasium.wrappers.RescaleAction(env, -1.0, 1.0).",
    )

    # Create actor-critic module and target networks
    ac = actor_critic(env.observation_space, env.action_space, **ac_kwargs).to(device)
    ac_targ = deepcopy(ac)

    # Freeze target networks with respect to optimizers (only update via polyak averaging)
    for p in ac_targ.parameters():
        p.requires_grad = False
    # The parameter lists that polyak averaging pairs up, made once
    params, targ_params = list(ac.parameters()), list(ac_targ.parameters())

    # The Q-network's parameters, frozen during each policy step
    q_params = list(ac.q.parameters())

    # Experience buffer
    replay_buffer = ReplayBuffer(obs_dim=obs_dim, act_dim=act_dim, size=replay_size, device=device)

    # Count variables
    var_counts = tuple(core.count_vars(module) for module in [ac.pi, ac.q])
    logger.log("\nNumber of parameters: \t pi: %d, \t q: %d\n" % var_counts)

    # Set up function for computing DDPG Q-loss
    def compute_loss_q(data):
        o, a = data["obs"], data["act"]
        q = ac.q(o, a)

        # Bellman backup for Q function
        backup = compute_q_target(data, ac_targ, gamma)

        # MSE loss against Bellman backup
        loss_q = ((q - backup) ** 2).mean()

        # Useful info for logging
        loss_info = dict(QVals=q.detach())

        return loss_q, loss_info

    # Set up function for computing DDPG pi loss
    def compute_loss_pi(data):
        o = data["obs"]
        q_pi = ac.q(o, ac.pi(o))
        return -q_pi.mean()

    # Set up optimizers for policy and q-function
    # (fused: Adam updates all parameters in one kernel, faster for many small steps)
    pi_optimizer = Adam(ac.pi.parameters(), lr=pi_lr, fused=True)
    q_optimizer = Adam(q_params, lr=q_lr, fused=True)

    # Set up model saving
    logger.setup_pytorch_saver(ac, env=env, ac_kwargs=ac_kwargs)
    logger.setup_checkpoint(env=env, test_env=test_env, ac=ac, ac_targ=ac_targ, pi_optimizer=pi_optimizer,
                            q_optimizer=q_optimizer, replay_buffer=replay_buffer)

    def update(data):
        # First run one gradient descent step for Q.
        q_optimizer.zero_grad()
        loss_q, loss_info = compute_loss_q(data)
        loss_q.backward()
        q_optimizer.step()

        # Freeze Q-network so you don't waste computational effort
        # computing gradients for it during the policy learning step.
        for p in q_params:
            p.requires_grad = False

        # Next run one gradient descent step for pi.
        pi_optimizer.zero_grad()
        loss_pi = compute_loss_pi(data)
        loss_pi.backward()
        pi_optimizer.step()

        # Unfreeze Q-network so you can optimize it at next DDPG step.
        for p in q_params:
            p.requires_grad = True

        # Record things
        logger.store(LossQ=loss_q.item(), LossPi=loss_pi.item(), **loss_info)

        # Finally, update target networks by polyak averaging.
        core.polyak_update(params, targ_params, polyak)

    def get_action(o, noise_scale):
        a = ac.act(torch.as_tensor(o, dtype=torch.float32, device=device))
        a += noise_scale * np.random.randn(act_dim)
        return np.clip(a, -act_limit, act_limit)

    def test_agent():
        for j in range(num_test_episodes):
            o, _ = test_env.reset()
            terminated, truncated, ep_ret, ep_len = False, False, 0, 0
            while not (terminated or truncated or ep_len == max_ep_len):
                # Take deterministic actions at test time (noise_scale=0)
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
        # Until start_steps have elapsed, randomly sample actions
        # from a uniform distribution for better exploration. Afterwards,
        # use the learned policy (with some noise, via act_noise).
        if t >= start_steps:
            a = get_action(o, act_noise)
        else:
            a = env.action_space.sample()

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

        # End of epoch handling
        if (t + 1) % steps_per_epoch == 0:
            epoch = (t + 1) // steps_per_epoch

            # Save model
            if (epoch % save_freq == 0) or (epoch == epochs):
                logger.save_state({}, None)

            # Test the performance of the deterministic version of the agent.
            test_agent()

            # Log info about epoch
            logger.log_tabular("Epoch", epoch)
            logger.log_tabular("EpRet", with_min_and_max=True)
            logger.log_tabular("TestEpRet", with_min_and_max=True)
            logger.log_tabular("EpLen", average_only=True)
            logger.log_tabular("TestEpLen", average_only=True)
            logger.log_tabular("TotalEnvInteracts", t + 1)
            logger.log_tabular("QVals", with_min_and_max=True)
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
    parser.add_argument("--env", type=str, default="Pendulum-v1")
    parser.add_argument("--hid", type=int, default=256)
    parser.add_argument("--l", type=int, default=2)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--seed", "-s", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--device", type=str, default="cpu")
    parser.add_argument("--exp_name", type=str, default="exercise2_2")
    args = parser.parse_args()

    ddpg(make_env_fn(args.env), actor_critic=MLPActorCritic,
        ac_kwargs=dict(hidden_sizes=[args.hid] * args.l), gamma=args.gamma,
        seed=args.seed, epochs=args.epochs, device=args.device,
        logger_kwargs=setup_logger_kwargs(args.exp_name, args.seed))
