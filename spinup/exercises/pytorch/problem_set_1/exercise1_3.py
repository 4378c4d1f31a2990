"""Exercise 1.3: the three ideas of TD3, in a copy of spinup's TD3.

TD3 (Fujimoto et al., 2018) improves on DDPG with three changes, each a few lines:

1. Target policy smoothing: the action in the Bellman backup is the target policy's action plus
   clipped Gaussian noise, so the Q-function can't exploit a sharp, narrow peak.
2. Clipped double-Q learning: two Q-functions are learned, and the backup uses the smaller of
   their two target estimates, which counters the overestimation of Q-learning.
3. Delayed policy updates: the policy (and the target networks) are updated less often than the
   Q-functions, once every ``policy_delay`` Q-updates.

This file is spinup's TD3 with those pieces cut out into four small functions just below the
replay buffer. Fill in the parts marked YOUR CODE HERE; the rest of the file uses them as is.

Check your work (a few seconds: it compares your functions with the reference on fixed networks
and a fixed batch, then runs your TD3 for a short while):

    spinup exercise 1.3 --file path/to/your/copy/of/exercise1_3.py

When it passes, train it: ``python exercise1_3.py --train --env Pendulum-v1 --epochs 5``.
"""

import time
from copy import deepcopy

import numpy as np
import torch
from torch.optim import Adam

import spinup.algos.pytorch.td3.core as core
from spinup.utils.checks import (check, check_nonnegative_ints, check_positive_ints, check_positive_numbers,
                                 check_replay_fits, check_seed, check_unit_interval)
from spinup.utils.envs import setup_env
from spinup.utils.logx import EpochLogger
from spinup.utils.mpi_pytorch import setup_pytorch_for_mpi


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


def smoothed_target_action(pi_targ, target_noise, noise_clip, act_limit):
    """Target policy smoothing: the action a'(s') used in the backup, shape (batch, act_dim).

    a'(s') = clip(mu_targ(s') + clip(eps, -noise_clip, noise_clip), -act_limit, act_limit),
    with eps ~ N(0, target_noise^2) drawn independently for every entry.

    Args:
        pi_targ: mu_targ(s'), the target policy's actions, shape (batch, act_dim).
        target_noise (float): Standard deviation of the smoothing noise.
        noise_clip (float): Largest absolute value the noise may take.
        act_limit (float): The action space's bound: actions lie in [-act_limit, act_limit].
    """
    #######################
    #                     #
    #   YOUR CODE HERE    #
    #                     #
    #######################
    raise NotImplementedError("smoothed_target_action: fill in the YOUR CODE HERE part")


def clipped_double_q_backup(data, ac_targ, a2, gamma):
    """The clipped double-Q target y(r, s', d) for a batch, shape (batch,).

    y = r + gamma * (1 - d) * min(Q1_targ(s', a'), Q2_targ(s', a')): both target Q-networks judge
    the smoothed action a', and the smaller of the two estimates is used.

    Args:
        data: A batch from the replay buffer: ``data["rew"]`` (batch,), ``data["obs2"]``
            (batch, obs_dim), ``data["done"]`` (batch,) (1.0 where the episode terminated).
        ac_targ: The target actor-critic; ``ac_targ.q1(obs, act)`` and ``ac_targ.q2(obs, act)``
            return shape (batch,).
        a2: The smoothed target actions a'(s'), shape (batch, act_dim).
        gamma (float): Discount factor.
    """
    #######################
    #                     #
    #   YOUR CODE HERE    #
    #                     #
    #######################
    raise NotImplementedError("clipped_double_q_backup: fill in the YOUR CODE HERE part")


@torch.no_grad()
def compute_q_target(data, ac_targ, gamma, act_limit, target_noise, noise_clip):
    """The TD3 backup for a batch, built from the two functions above."""
    a2 = smoothed_target_action(ac_targ.pi(data["obs2"]), target_noise, noise_clip, act_limit)
    return clipped_double_q_backup(data, ac_targ, a2, gamma)


def compute_loss_pi(data, ac):
    """The policy loss for a batch: a scalar whose minimisation makes mu(s) maximise Q1(s, mu(s)).

    Args:
        data: A batch from the replay buffer; ``data["obs"]`` has shape (batch, obs_dim).
        ac: The (main, not target) actor-critic: ``ac.pi(obs)`` and ``ac.q1(obs, act)``.
    """
    #######################
    #                     #
    #   YOUR CODE HERE    #
    #                     #
    #######################
    raise NotImplementedError("compute_loss_pi: fill in the YOUR CODE HERE part")


def policy_update_due(timer, policy_delay):
    """Whether the policy (and the target networks) are updated after the Q-update number ``timer``.

    The "delayed" in TD3: the policy is updated once for every ``policy_delay`` Q-updates,
    starting with the first. ``timer`` numbers the Q-updates over the whole run, without
    restarting at each burst of updates, so the ratio holds whatever ``update_every`` is.
    """
    #######################
    #                     #
    #   YOUR CODE HERE    #
    #                     #
    #######################
    raise NotImplementedError("policy_update_due: fill in the YOUR CODE HERE part")


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
        ``actor_critic(observation_space, action_space, **ac_kwargs)`` returns a
        ``torch.nn.Module`` ``ac`` with the members below. In them ``obs`` is a float32 tensor
        of shape (batch, obs_dim) on the run's device, with the values the environment returned
        (bytes stay 0 to 255: the default networks divide uint8 observations by 255 themselves),
        and ``act`` is a float32 tensor of shape (batch, act_dim).

        - ``ac.pi(obs) -> act``: the policy mu(s), (batch, act_dim), inside
          [-act_limit, act_limit]. The policy loss is backpropagated through it.
        - ``ac.q1(obs, act) -> q``: one Q-function, (batch,). It must be flat: a (batch, 1)
          output broadcasts against the (batch,) backup into a (batch, batch) matrix.
        - ``ac.q2(obs, act) -> q``: the other Q-function, (batch,).
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
        device (str): Where the networks and the replay buffer live: ``'cpu'``, ``'cuda'`` (or
            ``'cuda:N'``), or ``'auto'`` (a GPU if PyTorch sees one). Numpy arrays appear only at the
            environment's boundary; saved models always hold CPU tensors.
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

    # The target networks start as exact copies and change only by polyak averaging, never by Adam
    ac = actor_critic(env.observation_space, env.action_space, **ac_kwargs).to(device)
    ac_targ = deepcopy(ac)
    for p in ac_targ.parameters():
        p.requires_grad = False
    # The parameter lists that polyak averaging pairs up, made once
    params, targ_params = list(ac.parameters()), list(ac_targ.parameters())

    # Both Q-functions' parameters: one optimiser, and frozen together during a policy step
    q_params = [*ac.q1.parameters(), *ac.q2.parameters()]

    # Byte observations are stored as bytes; refuse a buffer the memory can't hold before making it
    obs_dtype = torch.uint8 if env.observation_space.dtype == np.uint8 else torch.float32
    check_replay_fits("td3", replay_size, 2 * obs_dtype.itemsize * int(np.prod(obs_dim)) + 4 * (act_dim + 2), device)
    replay_buffer = ReplayBuffer(obs_dim=obs_dim, act_dim=act_dim, size=replay_size, device=device,
                                 obs_dtype=obs_dtype)

    var_counts = tuple(core.count_vars(module) for module in [ac.pi, ac.q1, ac.q2])
    logger.log("\nNumber of parameters: \t pi: %d, \t q1: %d, \t q2: %d\n" % var_counts)

    # The Q-loss: regression on the backup y
    def compute_loss_q(data):
        o, a = data["obs"], data["act"]
        q1 = ac.q1(o, a)
        q2 = ac.q2(o, a)

        # The noise settings are fractions of act_limit; compute_q_target takes the action's units
        backup = compute_q_target(data, ac_targ, gamma, act_limit, target_noise * act_limit, noise_clip * act_limit)

        # Squared error against the backup, averaged over the batch
        loss_q1 = ((q1 - backup) ** 2).mean()
        loss_q2 = ((q2 - backup) ** 2).mean()
        loss_q = loss_q1 + loss_q2

        # The Q-values go to progress.txt
        loss_info = dict(Q1Vals=q1.detach(), Q2Vals=q2.detach())

        return loss_q, loss_info

    # One Adam optimiser for the policy, one for Q
    # (fused: Adam updates all parameters in one kernel, faster for many small steps)
    pi_optimizer = Adam(ac.pi.parameters(), lr=pi_lr, fused=True)
    q_optimizer = Adam(q_params, lr=q_lr, fused=True)

    # What model.pt and the resume checkpoint hold
    logger.setup_pytorch_saver(ac, env=env, ac_kwargs=ac_kwargs)
    logger.setup_checkpoint(env=env, test_env=test_env, ac=ac, ac_targ=ac_targ, pi_optimizer=pi_optimizer,
                            q_optimizer=q_optimizer, replay_buffer=replay_buffer)

    def update(data, timer):
        # Q-learning's gradient step, on every update
        q_optimizer.zero_grad()
        loss_q, loss_info = compute_loss_q(data)
        loss_q.backward()
        q_optimizer.step()

        logger.store(LossQ=loss_q.item(), **loss_info)

        # The delayed part: the policy and the targets move on one Q-update in policy_delay
        if policy_update_due(timer, policy_delay):
            # The policy loss goes through Q1, but this step should change only the policy:
            # with Q's weights frozen, backward computes no gradients for them.
            for p in q_params:
                p.requires_grad = False

            pi_optimizer.zero_grad()
            loss_pi = compute_loss_pi(data, ac)
            loss_pi.backward()
            pi_optimizer.step()

            for p in q_params:
                p.requires_grad = True

            logger.store(LossPi=loss_pi.item())

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

        # A burst of update_every updates, numbered t, t + 1, ...: the numbers run on from burst
        # to burst (and through a resume), so the policy delay counts over the whole run
        if t >= update_after and t % update_every == 0:
            for j in range(update_every):
                batch = replay_buffer.sample_batch(batch_size)
                update(data=batch, timer=t + j)

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
    import sys

    from spinup.utils.envs import make_env_fn
    from spinup.utils.run_utils import setup_logger_kwargs

    parser = argparse.ArgumentParser(description="Check this file (the default) or, with --train, train it.")
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--env", type=str, default="Pendulum-v1")
    parser.add_argument("--hid", type=int, default=256)
    parser.add_argument("--l", type=int, default=2)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--seed", "-s", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--exp_name", type=str, default="exercise1_3")
    args = parser.parse_args()

    if not args.train:
        from spinup.exercises.checkers import main_for_file

        sys.exit(main_for_file("1.3", __file__))

    td3(make_env_fn(args.env), actor_critic=core.MLPActorCritic,
        ac_kwargs=dict(hidden_sizes=[args.hid] * args.l), gamma=args.gamma,
        seed=args.seed, epochs=args.epochs,
        logger_kwargs=setup_logger_kwargs(args.exp_name, args.seed))
