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
                                 check_replay_fits, check_seed, check_unit_interval)
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
    """A first-in, first-out store of transitions, kept as tensors on ``device`` and sampled uniformly.

    Observations are kept as ``obs_dtype``: uint8 for byte observations (pixels, RAM), a quarter
    of the memory of float32. Sampled batches hold float32 tensors with the values stored.
    """

    def __init__(self, obs_dim, act_dim, size, device, obs_dtype=torch.float32):
        self.obs_buf = torch.zeros(core.combined_shape(size, obs_dim), dtype=obs_dtype, device=device)
        self.obs2_buf = torch.zeros(core.combined_shape(size, obs_dim), dtype=obs_dtype, device=device)
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
        return dict(obs=self.obs_buf[idxs].float(), obs2=self.obs2_buf[idxs].float(), act=self.act_buf[idxs],
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
    """Learn a deterministic policy for a continuous-action task with DDPG, logging every epoch.

    DDPG learns a Q-function from replayed transitions, with a backup that asks the target
    policy which action comes next, and moves a deterministic policy uphill on that Q-function:
    Q-learning for continuous actions, where the max over actions is replaced by the policy's
    choice. An epoch acts in the environment for ``steps_per_epoch`` steps, learns from
    batches drawn from the replay buffer as it goes, then scores the noise-free policy on
    ``num_test_episodes`` test episodes and writes one row of progress.txt.

    The actor-critic contract
        ``actor_critic(observation_space, action_space, **ac_kwargs)`` returns a
        ``torch.nn.Module`` ``ac`` with the members below. In them ``obs`` is a float32 tensor
        of shape (batch, obs_dim) on the run's device, with the values the environment returned
        (bytes stay 0 to 255: the default networks divide uint8 observations by 255 themselves),
        and ``act`` is a float32 tensor of shape (batch, act_dim).

        - ``ac.pi(obs) -> act``: the policy mu(s), (batch, act_dim), inside
          [-act_limit, act_limit]. The policy loss is backpropagated through it.
        - ``ac.q(obs, act) -> q``: the Q-function, (batch,). It must be flat: a (batch, 1)
          output broadcasts against the (batch,) backup into a (batch, batch) matrix.
        - ``ac.act(obs) -> a``: mu(s) as a numpy array on the CPU, computed without gradients;
          (act_dim,) for one observation of shape (obs_dim,). It is how the run and
          ``spinup test_policy`` choose actions.

    Args:
        env_fn (callable): Takes no arguments and returns a Gymnasium environment; it is called
            twice, for a training and a test environment. The actions must be a Box with the same
            bounds [-a, a] in every dimension (``gymnasium.wrappers.RescaleAction`` makes any Box so).
        actor_critic (callable): Builds the networks, as the actor-critic contract above says.
        ac_kwargs (dict): Handed on to ``actor_critic``. The default networks take
            ``hidden_sizes`` (default (256, 256)) and ``activation`` (default ``torch.nn.ReLU``).
        seed (int): Seeds torch, numpy and the training environment. The test environment gets
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
        num_test_episodes (int): Episodes of the noise-free policy on the test environment after
            each epoch. They draw no random numbers, so their number leaves training unchanged.
        max_ep_len (int): The longest an episode may run. An episode stopped here is treated as a
            Gymnasium time limit, not an ending: its last transition is stored as not done and
            its backup bootstraps.
        logger_kwargs (dict): Handed to ``EpochLogger``: ``output_dir``, ``exp_name`` and so on,
            as ``spinup.utils.run_utils.setup_logger_kwargs`` makes them.
        save_freq (int): The networks are saved every ``save_freq`` epochs, and
            after the last one.
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

    # One torch thread per process: small networks run slower when several threads share the cores
    setup_pytorch_for_mpi()

    # The logger writes config.json now, progress.txt once per epoch
    logger = EpochLogger(**logger_kwargs, resume=resume)
    logger.save_config(locals())

    # Networks and replay buffer live on one device; numpy appears only at the env's boundary
    device = core.get_device(device)

    torch.manual_seed(seed)
    np.random.seed(seed)

    # Two copies of the environment: test episodes must not disturb the one being trained on
    env, test_env = setup_env(env_fn, "ddpg"), setup_env(env_fn, "ddpg")
    obs_dim = env.observation_space.shape
    act_dim = env.action_space.shape[0]

    # One number bounds every action dimension: the policy's tanh output is scaled by it
    act_limit = float(env.action_space.high[0])
    check(
        np.all(env.action_space.low == -act_limit) and np.all(env.action_space.high == act_limit),
        f"ddpg needs the same bounds [-a, a] in every action dimension, not {env.action_space}; wrap the "
        "environment in gymnasium.wrappers.RescaleAction(env, -1.0, 1.0).",
    )

    # The target networks start as exact copies and change only by polyak averaging, never by Adam
    ac = actor_critic(env.observation_space, env.action_space, **ac_kwargs).to(device)
    ac_targ = deepcopy(ac)
    for p in ac_targ.parameters():
        p.requires_grad = False
    # The parameter lists that polyak averaging pairs up, made once
    params, targ_params = list(ac.parameters()), list(ac_targ.parameters())

    # The Q-function's parameters, frozen during each policy step
    q_params = list(ac.q.parameters())

    # Byte observations are stored as bytes; refuse a buffer the memory can't hold before making it
    obs_dtype = torch.uint8 if env.observation_space.dtype == np.uint8 else torch.float32
    check_replay_fits("ddpg", replay_size, 2 * obs_dtype.itemsize * int(np.prod(obs_dim)) + 4 * (act_dim + 2), device)
    replay_buffer = ReplayBuffer(obs_dim=obs_dim, act_dim=act_dim, size=replay_size, device=device,
                                 obs_dtype=obs_dtype)

    var_counts = tuple(core.count_vars(module) for module in [ac.pi, ac.q])
    logger.log("\nNumber of parameters: \t pi: %d, \t q: %d\n" % var_counts)

    # The Q-loss: regression on the backup y
    def compute_loss_q(data):
        o, a = data["obs"], data["act"]
        q = ac.q(o, a)

        backup = compute_q_target(data, ac_targ, gamma)

        # Squared error against the backup, averaged over the batch
        loss_q = ((q - backup) ** 2).mean()

        # The Q-values go to progress.txt
        loss_info = dict(QVals=q.detach())

        return loss_q, loss_info

    # The policy loss: minus Q at the policy's own action, so descending it climbs Q
    def compute_loss_pi(data):
        o = data["obs"]
        q_pi = ac.q(o, ac.pi(o))
        return -q_pi.mean()

    # One Adam optimiser for the policy, one for Q
    # (fused: Adam updates all parameters in one kernel, faster for many small steps)
    pi_optimizer = Adam(ac.pi.parameters(), lr=pi_lr, fused=True)
    q_optimizer = Adam(q_params, lr=q_lr, fused=True)

    # What model.pt and the resume checkpoint hold
    logger.setup_pytorch_saver(ac, env=env, ac_kwargs=ac_kwargs)
    logger.setup_checkpoint(env=env, test_env=test_env, ac=ac, ac_targ=ac_targ, pi_optimizer=pi_optimizer,
                            q_optimizer=q_optimizer, replay_buffer=replay_buffer)

    def update(data):
        # Q-learning's gradient step, on every update
        q_optimizer.zero_grad()
        loss_q, loss_info = compute_loss_q(data)
        loss_q.backward()
        q_optimizer.step()

        # The policy loss goes through Q, but this step should change only the policy:
        # with Q's weights frozen, backward computes no gradients for them.
        for p in q_params:
            p.requires_grad = False

        pi_optimizer.zero_grad()
        loss_pi = compute_loss_pi(data)
        loss_pi.backward()
        pi_optimizer.step()

        for p in q_params:
            p.requires_grad = True

        logger.store(LossQ=loss_q.item(), LossPi=loss_pi.item(), **loss_info)

        # The targets take a small step towards the networks just trained
        core.polyak_update(params, targ_params, polyak)

    def get_action(o, noise_scale):
        a = ac.act(torch.as_tensor(o, dtype=torch.float32, device=device))
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

        # A burst of update_every updates
        if t >= update_after and t % update_every == 0:
            for j in range(update_every):
                batch = replay_buffer.sample_batch(batch_size)
                update(data=batch)

        # The epoch's end: save, test, write a row of progress.txt, checkpoint
        if (t + 1) % steps_per_epoch == 0:
            epoch = (t + 1) // steps_per_epoch

            if (epoch % save_freq == 0) or (epoch == epochs):
                logger.save_state({}, None)

            test_agent()

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
