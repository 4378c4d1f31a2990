"""Steps per second of the off-policy algorithms while they learn (issue 5).

DDPG, TD3 and SAC run on HalfCheetah-v5, DQN on CartPole-v1 and on one image task (MinAtar
Breakout when ``minatar`` is installed). Each run takes random actions for its first 1000 steps,
starts updating at step 1000 (one gradient step per environment step, in bursts of 50), and this
script times the ``--steps`` steps after its first epoch of 1500 steps (by then updates run at full
rate), from the progress.txt ``Time`` column. Those steps include one test episode per 1500 steps.

    python benchmarks/offpolicy_speed.py                      # all, on the CPU
    python benchmarks/offpolicy_speed.py --algos td3 sac --device cuda
"""

import argparse
import tempfile

import gymnasium as gym
import pandas as pd

import spinup
from spinup.utils.envs import make_env_fn

TASKS = [("ddpg", "HalfCheetah-v5"), ("td3", "HalfCheetah-v5"), ("sac", "HalfCheetah-v5"),
         ("dqn", "CartPole-v1"), ("dqn", "MinAtar/Breakout-v1")]


def steps_per_second(algo_name, env_name, steps, device):
    """Environment steps per second over ``steps`` steps of training after updates begin."""
    with tempfile.TemporaryDirectory() as out:
        extra = {} if algo_name == "dqn" else dict(start_steps=1000)
        getattr(spinup, algo_name)(
            make_env_fn(env_name), steps_per_epoch=1500, epochs=1 + steps // 1500, update_after=1000,
            num_test_episodes=1, device=device, logger_kwargs=dict(output_dir=out), **extra)
        times = pd.read_table(f"{out}/progress.txt")["Time"]
    return (steps // 1500 * 1500) / (times.iloc[-1] - times.iloc[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac", "dqn"])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    rows = []
    for algo_name, env_name in TASKS:
        if algo_name not in args.algos:
            continue
        if env_name.startswith("MinAtar/"):
            try:
                import minatar.gym
            except ImportError:
                print("Skipping MinAtar (pip install minatar).")
                continue
            if env_name not in gym.registry:
                minatar.gym.register_envs()
        sps = steps_per_second(algo_name, env_name, args.steps, args.device)
        rows.append(dict(algo=algo_name, env=env_name, device=args.device, steps_per_second=round(sps, 1)))
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
