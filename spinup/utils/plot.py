"""Learning curves from progress.txt files: mean and spread over seeds, one line per condition."""

from __future__ import annotations

import argparse
import json
import os
import os.path as osp

import numpy as np
import pandas as pd

from spinup.utils.checks import UserError, check, check_positive_ints

DIV_LINE = "=" * 60

# Counters that number runs and conditions across one call of make_plots.
exp_idx = 0
units: dict = {}


def _pyplot(headless: bool):
    import matplotlib

    if headless:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_data(data, xaxis="Epoch", value="AverageEpRet", condition="Condition1", smooth=1, ax=None,
              estimator="mean", **kwargs):
    """Draw ``value`` against ``xaxis`` for every condition: the estimator's line and a band of one
    standard deviation over the runs (units) of that condition.

    ``smooth=k`` averages each point with its neighbours in a window of k epochs (k=1: no smoothing);
    a run with fewer than k epochs (one still in progress) is smoothed over all it has.
    """
    import seaborn as sns

    if smooth > 1:
        # y_smooth[t] = mean of y over the window around t; edges are averaged over fewer points.
        for datum in data:
            x = np.asarray(datum[value], dtype=np.float64)
            window = np.ones(min(smooth, len(x)))
            z = np.ones(len(x))
            datum[value] = np.convolve(x, window, "same") / np.convolve(z, window, "same")
    frame = pd.concat(data, ignore_index=True)
    ax = sns.lineplot(data=frame, x=xaxis, y=value, hue=condition, errorbar="sd", estimator=estimator,
                      ax=ax, **kwargs)
    ax.legend(loc="best").set_draggable(True)
    # Step counts get large; scientific notation keeps the axis readable.
    if np.max(np.asarray(frame[xaxis])) > 5e3:
        ax.ticklabel_format(style="sci", axis="x", scilimits=(0, 0))
    return ax


def get_datasets(logdir, condition=None, select=None, exclude=None):
    """Every run below ``logdir`` as a DataFrame, with columns saying which experiment it is.

    ``Unit`` numbers the runs of one experiment, ``Condition1`` is the legend label (``condition``
    or the experiment name from config.json), ``Condition2`` tells seeds apart, and
    ``Performance`` copies AverageTestEpRet when present, else AverageEpRet. ``select`` keeps
    the runs whose path contains all its strings, ``exclude`` drops those containing any of them.
    """
    global exp_idx, units
    datasets = []
    for root, _, files in sorted(os.walk(logdir)):
        if "progress.txt" not in files:
            continue
        if select and not all(x in root for x in select):
            continue
        if exclude and any(x in root for x in exclude):
            continue
        exp_name = None
        try:
            with open(osp.join(root, "config.json")) as f:
                exp_name = json.load(f).get("exp_name")
        except (OSError, ValueError):
            pass
        condition1 = condition or exp_name or "exp"
        condition2 = condition1 + "-" + str(exp_idx)
        exp_idx += 1
        units.setdefault(condition1, 0)
        unit = units[condition1]
        units[condition1] += 1
        path = osp.join(root, "progress.txt")
        try:
            exp_data = pd.read_table(path)
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            print(f"Skipping {path}: it holds no rows yet.")
            continue
        if exp_data.empty:
            print(f"Skipping {path}: it holds no rows yet.")
            continue
        performance = "AverageTestEpRet" if "AverageTestEpRet" in exp_data else "AverageEpRet"
        exp_data.insert(len(exp_data.columns), "Unit", unit)
        exp_data.insert(len(exp_data.columns), "Condition1", condition1)
        exp_data.insert(len(exp_data.columns), "Condition2", condition2)
        if performance in exp_data:
            exp_data.insert(len(exp_data.columns), "Performance", exp_data[performance])
        exp_data.attrs["path"] = path
        datasets.append(exp_data)
    return datasets


def get_all_datasets(all_logdirs, legend=None, select=None, exclude=None):
    """Datasets for every directory given.

    A path ending in ``/`` is used as it is; otherwise it is a prefix: every directory beside it
    whose name starts with it is included (``data/ppo`` matches ``data/ppo-a`` and ``data/ppo-b``).
    A ``progress.txt`` file stands for the run folder that holds it. ``select`` keeps the runs
    (found anywhere below these directories) whose path contains all its strings, ``exclude``
    drops those containing any of its strings.
    """
    logdirs = []
    for logdir in all_logdirs:
        if osp.isfile(logdir) and osp.basename(logdir) == "progress.txt":
            logdirs.append(osp.join(osp.dirname(logdir) or ".", ""))
            continue
        if osp.isdir(logdir) and logdir[-1] == os.sep:
            logdirs.append(logdir)
            continue
        basedir = osp.dirname(logdir) or "."
        prefix = osp.basename(logdir)
        check(osp.isdir(basedir), f"There is no directory {basedir}; pass the folder of a run, e.g. data/exp.")
        matches = [osp.join(basedir, x) for x in sorted(os.listdir(basedir)) if prefix in x and x.startswith(prefix)]
        logdirs += matches
    check(logdirs, "No run directory matches " + ", ".join(all_logdirs) + "; pass the folder of a run, e.g. data/exp.")
    print("Plotting from...\n" + DIV_LINE + "\n" + "\n".join(logdirs) + "\n" + DIV_LINE)

    check(legend is None or len(legend) == len(logdirs),
          f"--legend gave {len(legend or [])} names for {len(logdirs)} directories; give one name per directory.")
    data = []
    for i, log in enumerate(logdirs):
        data += get_datasets(log, legend[i] if legend else None, select, exclude)
    if select or exclude:
        words = ([f"--select {' '.join(select)}"] if select else []) + ([f"--exclude {' '.join(exclude)}"] if exclude else [])
        check(data, "No run below " + ", ".join(logdirs) + " matches " + " and ".join(words)
              + "; check the words against the runs' folder names.")
    check(data, "No progress.txt with any rows was found under " + ", ".join(logdirs)
          + "; pass the folder of a run that has finished at least one epoch.")
    return data


def make_plots(all_logdirs, legend=None, xaxis=None, values=None, count=False, font_scale=1.5, smooth=1,
               select=None, exclude=None, estimator="mean", savefig=None):
    """Plot each of ``values`` against ``xaxis`` for the runs in ``all_logdirs``.

    Shows the figures in a window when a display is available and ``savefig`` is not given;
    otherwise writes PNG files and returns their paths.
    """
    global exp_idx, units
    exp_idx, units = 0, dict()
    check_positive_ints(smooth=smooth)
    check(estimator in ("mean", "max", "min", "median"), f"--est must be mean, max, min or median, not {estimator!r}.")
    data = get_all_datasets(all_logdirs, legend, select, exclude)
    values = values if isinstance(values, list) else [values or "Performance"]
    xaxis = xaxis or "TotalEnvInteracts"
    for column in [xaxis, *values]:
        for d in data:
            if column not in d.columns:
                real = [c for c in d.columns if c not in ("Unit", "Condition1", "Condition2")]
                raise UserError(f"{d.attrs['path']} has no column '{column}'; it has: {', '.join(real)}.")
    condition = "Condition2" if count else "Condition1"
    headless = savefig is not None or not _has_display()
    plt = _pyplot(headless)
    import seaborn as sns

    sns.set_theme(style="darkgrid", font_scale=font_scale / 1.25)
    saved = []
    for value in values:
        fig = plt.figure(figsize=(8, 5))
        plot_data([d.copy() for d in data], xaxis=xaxis, value=value, condition=condition, smooth=smooth,
                  estimator=estimator, ax=fig.gca())
        plt.tight_layout()
        if headless:
            path = _figure_path(savefig, value, len(values))
            fig.savefig(path, dpi=120)
            print(f"Saved the plot of {value} to {path}")
            saved.append(path)
            plt.close(fig)
    if not headless:
        plt.show()
    return saved


def _has_display() -> bool:
    return os.name == "nt" or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _figure_path(savefig, value, n_values) -> str:
    if savefig is None:
        return f"plot_{value}.png"
    if n_values == 1:
        return savefig
    root, ext = osp.splitext(savefig)
    return f"{root}_{value}{ext or '.png'}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="spinup plot", description="Plot learning curves from progress.txt files.")
    parser.add_argument("logdir", nargs="+")
    parser.add_argument("--legend", "-l", nargs="*")
    parser.add_argument("--xaxis", "-x", default="TotalEnvInteracts")
    parser.add_argument("--value", "-y", default="Performance", nargs="*")
    parser.add_argument("--count", action="store_true", help="one curve per run instead of mean and spread")
    parser.add_argument("--smooth", "-s", type=int, default=1)
    parser.add_argument("--select", nargs="*")
    parser.add_argument("--exclude", nargs="*")
    parser.add_argument("--est", default="mean")
    parser.add_argument("--savefig", default=None, help="write the figure to this PNG instead of showing it")
    args = parser.parse_args(argv)
    make_plots(args.logdir, args.legend, args.xaxis, args.value, args.count, smooth=args.smooth,
               select=args.select, exclude=args.exclude, estimator=args.est, savefig=args.savefig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
