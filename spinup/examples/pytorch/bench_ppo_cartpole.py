"""A small ExperimentGrid sweep: how PPO's network size and clip ratio change learning on CartPole-v1.

    python -m spinup.examples.pytorch.bench_ppo_cartpole [--cpu 1] [--num_runs 3] [--epochs 20]
    spinup plot data/bench_ppo_cartpole --legend ...   # then compare the variants

Every combination of the values below runs for ``num_runs`` seeds (2 sizes x 2 clip ratios x 3
seeds = 12 runs of 20 epochs: about 10 minutes on one core).
"""

import argparse

import torch

from spinup import ppo
from spinup.utils.run_utils import ExperimentGrid


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu", type=int, default=1, help="MPI processes per run")
    parser.add_argument("--num_runs", type=int, default=3, help="seeds per variant")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--data_dir", default=None)
    args = parser.parse_args(argv)

    eg = ExperimentGrid(name="bench_ppo_cartpole")
    eg.add("env_name", "CartPole-v1", "", True)
    eg.add("seed", [10 * i for i in range(args.num_runs)])
    eg.add("epochs", args.epochs)
    eg.add("steps_per_epoch", 4000)
    eg.add("ac_kwargs:hidden_sizes", [(32,), (64, 64)], "hid")
    eg.add("ac_kwargs:activation", torch.nn.Tanh, "")
    eg.add("clip_ratio", [0.1, 0.3], "clip")
    return eg.run(ppo, num_cpu=args.cpu, data_dir=args.data_dir)


if __name__ == "__main__":
    main()
