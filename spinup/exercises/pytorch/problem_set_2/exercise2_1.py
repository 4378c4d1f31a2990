"""Exercise 2.1: what does fitting the value function buy TRPO?

TRPO, like VPG and PPO, learns a value function V(s) next to its policy, and spends
``train_v_iters`` gradient steps per epoch fitting it to the returns. V is never used to act. So
why fit it at all, and how well does it need to be fitted?

This script answers it by experiment: it trains TRPO on Hopper-v5 with 0, 5 and 80 value-function
steps per epoch (80 is the default), everything else equal, for three seeds. Run it, plot it, and
explain what you see:

    python -m spinup.exercises.pytorch.problem_set_2.exercise2_1     (9 runs: about 45 minutes on one core)
    python -m spinup.exercises.pytorch.problem_set_2.exercise2_1 --epochs 25 --seeds 0   (about 6 minutes)
    spinup plot data/ex2-1_hopper-v5_vf_iters0 data/ex2-1_hopper-v5_vf_iters5 \\
        data/ex2-1_hopper-v5_vf_iters80            (the script prints the exact command)

Questions to answer, then compare with the written solution (``spinup exercise 2.1 --solution``
prints where it is):

1. Which setting learns fastest, and which slowest? Is the order the same for every seed?
2. With 0 steps, V keeps its random initial weights. What are the advantage estimates then, and
   why can the policy still learn at all?
3. The ``LossV`` and ``VVals`` columns (``spinup plot ... --value LossV``) show how well V fits.
   How does that relate to the learning curves?
"""

from __future__ import annotations

import argparse
import os.path as osp

V_ITERS = [0, 5, 80]


def build_grid(env: str = "Hopper-v5", seeds=(0, 10, 20), epochs: int = 50, steps_per_epoch: int = 4000):
    """The ExperimentGrid of this exercise: TRPO with ``train_v_iters`` in 0, 5, 80."""
    from spinup.utils.run_utils import ExperimentGrid

    eg = ExperimentGrid(name="ex2-1")
    eg.add("env_name", env, "", True)
    eg.add("seed", list(seeds))
    eg.add("epochs", epochs)
    eg.add("steps_per_epoch", steps_per_epoch)
    eg.add("train_v_iters", V_ITERS, "vf_iters", True)
    return eg


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Exercise 2.1: TRPO with 0, 5 and 80 value-function steps per epoch.")
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 10, 20])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=4000, help="environment steps per epoch")
    parser.add_argument("--cpu", default=1, help="MPI processes per run ('auto': one per core)")
    parser.add_argument("--data_dir", default=None)
    args = parser.parse_args(argv)

    from spinup import trpo

    eg = build_grid(args.env, args.seeds, args.epochs, args.steps)
    cpu = args.cpu if args.cpu == "auto" else int(args.cpu)
    out_dirs = eg.run(trpo, num_cpu=cpu, data_dir=args.data_dir)
    experiments = sorted({osp.dirname(d) for d in out_dirs})
    print("\nPlot the three settings against each other (seeds averaged):\n")
    print("    spinup plot " + " ".join(experiments))
    print("    spinup plot " + " ".join(experiments) + " --value LossV AverageVVals\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
