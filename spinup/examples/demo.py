"""The main job of the README's first command: train PPO on CartPole-v1 and plot its learning curve.

    python -m spinup.examples.demo [--epochs 40] [--seed 0]
"""

import argparse
import os.path as osp

from spinup import ppo
from spinup.utils.envs import make_env_fn
from spinup.utils.plot import make_plots
from spinup.utils.run_utils import setup_logger_kwargs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=40, help="epochs of 4000 steps (about 2 s each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exp_name", default="demo_ppo_cartpole")
    args = parser.parse_args(argv)

    logger_kwargs = setup_logger_kwargs(args.exp_name, args.seed)
    ppo(make_env_fn("CartPole-v1"), ac_kwargs=dict(hidden_sizes=(64, 64)), seed=args.seed,
        steps_per_epoch=4000, epochs=args.epochs, logger_kwargs=logger_kwargs)

    run_dir = logger_kwargs["output_dir"]
    png = osp.join(osp.dirname(run_dir), "learning_curve.png")
    make_plots([run_dir + "/"], xaxis="TotalEnvInteracts", values=["AverageEpRet"], savefig=png)
    print(f"\nThe run is saved in {run_dir}")
    print(f"Its learning curve is {png}")
    print(f"Watch the trained agent:  .venv/bin/spinup test_policy {run_dir}")


if __name__ == "__main__":
    main()
