# ruff: noqa: N999  (the leading digit orders the examples; they run as scripts or with -m)
"""The simplest policy gradient, on a discrete-action Gymnasium task.

Every grad-log-prob in an episode is weighted by that episode's whole return R(tau). This is the
estimator derived in "Part 3: Intro to Policy Optimization" of the docs, written so that each piece
of the math sits in one small, named place:

    python -m spinup.examples.pytorch.pg_math.1_simple_pg --env CartPole-v1 --lr 1e-2

Compare with ``2_rtg_pg.py`` (``diff 1_simple_pg.py 2_rtg_pg.py``): the only change is the weight.
"""
import argparse

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical


def mlp(sizes, activation=nn.Tanh, output_activation=nn.Identity):
    """A feed-forward network with layer widths ``sizes`` (input first, output last)."""
    layers = []
    for j in range(len(sizes) - 1):
        act = activation if j < len(sizes) - 2 else output_activation
        layers += [nn.Linear(sizes[j], sizes[j + 1]), act()]
    return nn.Sequential(*layers)


def train(env_name="CartPole-v1", hidden_sizes=(32,), lr=1e-2, epochs=50, batch_size=5000,
          render=False, seed=0):
    """Train a categorical MLP policy on ``env_name``; return the mean episode return of each epoch.

    Args:
        env_name: id of a Gymnasium task with a flat Box observation and a Discrete action space.
        hidden_sizes: widths of the policy's hidden layers.
        lr: Adam step size.
        epochs: number of policy-gradient steps; each uses one fresh batch of experience.
        batch_size: an epoch collects at least this many environment steps (whole episodes only).
        render: after each epoch, play one extra episode on screen (it is not used for learning).
        seed: seeds torch, numpy and the environment.
    """
    torch.manual_seed(seed)
    np.random.seed(seed)
    env = gym.make(env_name)
    flat_obs = isinstance(env.observation_space, gym.spaces.Box) and len(env.observation_space.shape) == 1
    discrete_act = isinstance(env.action_space, gym.spaces.Discrete)
    if not (flat_obs and discrete_act):
        raise ValueError(f"{env_name} has observations {env.observation_space} and actions "
                         f"{env.action_space}; this example needs a flat Box observation and a Discrete "
                         "action space (try CartPole-v1).")
    obs_dim = env.observation_space.shape[0]
    n_acts = int(env.action_space.n)

    # [make_policy]
    # The network outputs one logit per action; the policy is the categorical distribution they define.
    logits_net = mlp(sizes=[obs_dim] + list(hidden_sizes) + [n_acts])

    def get_policy(obs):
        return Categorical(logits=logits_net(obs))

    def get_action(obs):
        with torch.no_grad():
            return get_policy(obs).sample().item()
    # [/make_policy]

    # [make_loss]
    # Not a performance measure: its gradient, at the data the current policy collected, equals
    # minus the policy-gradient estimate. `weights` holds the number multiplying each log-prob.
    def compute_loss(obs, act, weights):
        logp = get_policy(obs).log_prob(act)
        return -(logp * weights).mean()
    # [/make_loss]

    optimizer = torch.optim.Adam(logits_net.parameters(), lr=lr)

    def as_tensor(x):
        return torch.as_tensor(np.asarray(x), dtype=torch.float32)

    # [train_one_epoch]
    def train_one_epoch():
        batch_obs, batch_acts = [], []
        batch_weights = []          # the weight of each logp(a_t|s_t) in the loss
        batch_rets, batch_lens = [], []

        obs, _ = env.reset()
        ep_rews = []
        while True:
            batch_obs.append(obs)
            act = get_action(as_tensor(obs))
            obs, rew, terminated, truncated, _ = env.step(act)
            batch_acts.append(act)
            ep_rews.append(rew)

            if terminated or truncated:
                ep_ret, ep_len = sum(ep_rews), len(ep_rews)
                batch_rets.append(ep_ret)
                batch_lens.append(ep_len)
                # every step of the episode is weighted by the return of the whole episode
                batch_weights += [ep_ret] * ep_len
                obs, _ = env.reset()
                ep_rews = []
                # an epoch only ever holds whole episodes
                if len(batch_obs) >= batch_size:
                    break

        # one gradient step on the whole batch
        optimizer.zero_grad()
        batch_loss = compute_loss(obs=as_tensor(batch_obs),
                                  act=torch.as_tensor(batch_acts, dtype=torch.int64),
                                  weights=as_tensor(batch_weights))
        batch_loss.backward()
        optimizer.step()
        return batch_loss.item(), batch_rets, batch_lens
    # [/train_one_epoch]

    def show_episode():
        show_env = gym.make(env_name, render_mode="human")
        obs, _ = show_env.reset()
        done = False
        while not done:
            obs, _, terminated, truncated, _ = show_env.step(get_action(as_tensor(obs)))
            done = terminated or truncated
        show_env.close()

    env.reset(seed=seed)
    env.action_space.seed(seed)
    mean_rets = []
    for i in range(epochs):
        batch_loss, batch_rets, batch_lens = train_one_epoch()
        mean_rets.append(float(np.mean(batch_rets)))
        print(f"epoch: {i:3d} \t loss: {batch_loss:.3f} \t return: {np.mean(batch_rets):.3f} \t "
              f"ep_len: {np.mean(batch_lens):.3f}", flush=True)
        if render:
            show_episode()
    env.close()
    return mean_rets


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", "--env_name", dest="env_name", type=str, default="CartPole-v1")
    parser.add_argument("--render", action="store_true", help="show one episode after each epoch")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch_size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("\nUsing the simplest formulation of the policy gradient.\n")
    train(env_name=args.env_name, lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
          render=args.render, seed=args.seed)
