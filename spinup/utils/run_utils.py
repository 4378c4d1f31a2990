"""Launching experiments: output directories, one run in a fresh process, and grids of runs."""

from __future__ import annotations

import base64
import json
import os
import os.path as osp
import signal
import string
import subprocess
import sys
import threading
import time
import zlib
from copy import deepcopy
from textwrap import dedent

import cloudpickle

from spinup.user_config import DEFAULT_DATA_DIR, DEFAULT_SHORTHAND, FORCE_DATESTAMP, WAIT_BEFORE_LAUNCH
from spinup.utils.checks import check
from spinup.utils.logx import colorize
from spinup.utils.envs import make_env_fn
from spinup.utils.mpi_tools import mpirun_command, mpirun_env
from spinup.utils.serialization_utils import convert_json

DIV_LINE = "=" * 80


class ExperimentFailed(RuntimeError):
    """A launched run exited with an error; ``returncode`` is its exit status (2 for bad input)."""

    def __init__(self, exp_name: str, returncode: int):
        super().__init__(f"The run '{exp_name}' failed with exit status {returncode}; its error is printed above.")
        self.returncode = returncode


def setup_logger_kwargs(exp_name, seed=None, data_dir=None, datestamp=False, overwrite=False) -> dict:
    """``logger_kwargs`` for one run: its output directory and experiment name.

    The layout is ``data_dir/[YYYY-MM-DD_]exp_name/[YYYY-MM-DD_HH-MM-SS-]exp_name_s{seed}``;
    the date parts appear when ``datestamp`` is true, and the seed folder when ``seed`` is given.
    A folder that already holds a run is refused by the logger unless ``overwrite`` is true.
    """
    name = str(exp_name)
    check(name not in ("", ".", "..") and "/" not in name and os.sep not in name and "\0" not in name,
          f"The experiment name {name!r} is not a plain folder name; use letters, digits, '-' or '_' (no '/' "
          "or '..'), and --data_dir to choose where runs go.")
    datestamp = datestamp or FORCE_DATESTAMP
    relpath = (time.strftime("%Y-%m-%d_") if datestamp else "") + exp_name
    if seed is not None:
        subfolder = f"{exp_name}_s{seed}"
        if datestamp:
            subfolder = time.strftime("%Y-%m-%d_%H-%M-%S") + "-" + subfolder
        relpath = osp.join(relpath, subfolder)
    data_dir = data_dir or DEFAULT_DATA_DIR
    return dict(output_dir=osp.join(data_dir, relpath), exp_name=exp_name, **({"overwrite": True} if overwrite else {}))


def call_experiment(exp_name, thunk, seed=0, num_cpu=1, data_dir=None, datestamp=False, **kwargs):
    """Run ``thunk(**kwargs)`` once, in a fresh Python process, with logging set up for it.

    Args:
        exp_name: Name of the experiment (the output folder's name).
        thunk: The function to run, usually an algorithm such as ``spinup.ppo``.
        seed: Random seed, passed to ``thunk`` and used in the folder name.
        num_cpu: Number of MPI processes; ``'auto'`` means one per core. With N > 1 the run is one
            data-parallel run on N processes (not N separate runs).
        data_dir: Parent folder of the output (default: ``spinup.user_config.DEFAULT_DATA_DIR``).
        datestamp: Put the date and time in the folder names.
        **kwargs: Arguments for ``thunk``. ``env_name='Id'`` becomes ``env_fn`` building that env.

    Raises:
        ExperimentFailed: the run exited with an error (its message was already printed).
    """
    num_cpu = resolve_num_cpu(num_cpu)
    kwargs["seed"] = seed
    print(colorize(f"Running experiment:\n\n{exp_name}\n\nwith kwargs:\n", color="cyan", bold=True))
    print(json.dumps(convert_json(kwargs), separators=(",", ":\t"), indent=4, sort_keys=True), "\n")
    # logger_kwargs given without an output_dir (e.g. only tensorboard=True) keep the usual layout
    given = dict(kwargs.get("logger_kwargs") or {})
    kwargs["logger_kwargs"] = {**setup_logger_kwargs(exp_name, seed, data_dir, datestamp), **given}
    if "env_name" in kwargs:
        env_name = kwargs.pop("env_name")
        kwargs["env_fn"] = make_env_fn(env_name)

    encoded = base64.b64encode(zlib.compress(cloudpickle.dumps(lambda: thunk(**kwargs)))).decode("ascii")
    cmd = [sys.executable, "-u", "-m", "spinup.utils.run_entrypoint", encoded]
    env = dict(os.environ)
    if num_cpu > 1:
        cmd = mpirun_command(num_cpu) + cmd
        env = mpirun_env()
    # Ctrl-C reaches the run itself, which saves a checkpoint and stops; this launcher only waits
    # for it (a handler, not SIG_IGN, so the run does not inherit the ignoring).
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None) if _in_main_thread() else None
    try:
        returncode = subprocess.call(cmd, env=env)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if returncode != 0:
        raise ExperimentFailed(exp_name, returncode)

    logger_kwargs = kwargs["logger_kwargs"]
    print(
        colorize(f"\n{DIV_LINE}\nEnd of experiment. Outputs are in {logger_kwargs['output_dir']}\n\n", "cyan")
        + f"Plot results:    spinup plot {logger_kwargs['output_dir']}\n"
        + f"Watch the agent: spinup test_policy {logger_kwargs['output_dir']}\n"
        + DIV_LINE
        + "\n"
    )
    return logger_kwargs["output_dir"]


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def resolve_num_cpu(num_cpu) -> int:
    if num_cpu == "auto":
        return os.cpu_count() or 1
    check(
        isinstance(num_cpu, int) and not isinstance(num_cpu, bool) and num_cpu >= 1,
        f"The number of processes (--cpu) must be a positive integer or 'auto', not {num_cpu!r}.",
    )
    return num_cpu


def all_bools(vals) -> bool:
    return all(isinstance(v, bool) for v in vals)


def valid_str(v) -> str:
    """A short, filesystem-safe rendering of a value for use in a folder name."""
    if hasattr(v, "__name__"):
        return valid_str(v.__name__)
    if isinstance(v, (tuple, list)):
        return "-".join(valid_str(x) for x in v)
    str_v = str(v).lower()
    valid_chars = f"-_{string.ascii_letters}{string.digits}"
    return "".join(c if c in valid_chars else "-" for c in str_v)


class ExperimentGrid:
    """Runs every combination of a set of hyper-parameter values.

    Example::

        eg = ExperimentGrid(name="ppo-bench")
        eg.add("env_name", "CartPole-v1", "", True)
        eg.add("seed", [0, 10])
        eg.add("ac_kwargs:hidden_sizes", [(32,), (64, 64)], "hid")
        eg.run(ppo)

    Keys with ``:`` are nested: ``ac_kwargs:hidden_sizes`` sets ``ac_kwargs['hidden_sizes']``.
    """

    def __init__(self, name: str = ""):
        check(isinstance(name, str), "The grid's name must be a string.")
        self.keys: list[str] = []
        self.vals: list[list] = []
        self.shs: list[str | None] = []
        self.in_names: list[bool] = []
        self.name = name

    def print(self) -> None:
        """Show the grid's parameters, values and the number of variants."""
        print(DIV_LINE)
        base_msg = "ExperimentGrid %s runs over parameters:\n"
        name_insert = "[" + self.name + "]"
        print(colorize(base_msg % name_insert if len(base_msg % name_insert) <= 80 else base_msg % "", "green", bold=True))
        for k, v, sh in zip(self.keys, self.vals, self.shs):
            color_k = colorize(k.ljust(40), color="cyan", bold=True)
            print("", color_k, "[" + sh + "]" if sh is not None else "", "\n")
            for val in v:
                print("\t" + str(convert_json(val)))
            print()
        nvars_total = 1
        for v in self.vals:
            nvars_total *= len(v)
        if "seed" in self.keys:
            num_seeds = len(self.vals[self.keys.index("seed")])
            variants_without_seeds = nvars_total // num_seeds
        else:
            num_seeds, variants_without_seeds = 1, nvars_total
        print(" Variants, counting seeds: ".ljust(40), nvars_total)
        print(" Variants, not counting seeds: ".ljust(40), variants_without_seeds)
        print()
        print(DIV_LINE)

    def _default_shorthand(self, key: str) -> str:
        # The first three letters of each part of the key: 'ac_kwargs:hidden_sizes' -> 'ac_-hid'.
        return "-".join(z[:3] for z in key.split(":"))

    def add(self, key, vals, shorthand=None, in_name=False) -> None:
        """Add a parameter to the grid.

        Args:
            key: The algorithm's argument name (``a:b`` for ``a['b']``).
            vals: One value or a list of values to try.
            shorthand: Short name used in folder names; defaults to the key's first letters.
            in_name: Put this parameter in the folder name even if it has only one value.
        """
        check(isinstance(key, str) and key, "A grid key must be a non-empty string.")
        check(key not in self.keys, f"The key '{key}' is already in the grid; add each key once.")
        if not isinstance(vals, list):
            vals = [vals]
        check(len(vals) > 0, f"The key '{key}' was given no values; give at least one.")
        if DEFAULT_SHORTHAND and shorthand is None:
            shorthand = self._default_shorthand(key)
        self.keys.append(key)
        self.vals.append(vals)
        self.shs.append(shorthand)
        self.in_names.append(in_name)

    def variant_name(self, variant: dict) -> str:
        """The folder name of one variant: the grid name plus each varied parameter's value.

        A parameter appears when it has several values in the grid or was added with
        ``in_name=True``. The seed never appears here: it goes in the run folder's suffix.
        """

        def get_val(v, k):
            if k in v:
                return v[k]
            splits = k.split(":")
            k0, k1 = splits[0], ":".join(splits[1:])
            return get_val(v[k0], k1)

        var_name = self.name
        for k, v, sh, inn in zip(self.keys, self.vals, self.shs, self.in_names):
            if (len(v) > 1 or inn) and k != "seed":
                param_name = sh if sh is not None else k
                param_name = valid_str(param_name)
                variant_val = get_val(variant, k)
                if all_bools(v):
                    var_name += ("_" + param_name) if variant_val else ""
                else:
                    var_name += "_" + param_name + valid_str(variant_val)
        return var_name.lstrip("_")

    def _variants(self, keys, vals):
        if len(keys) == 1:
            return [{keys[0]: v} for v in vals[0]]
        pre_variants = self._variants(keys[1:], vals[1:])
        variants = []
        for val in vals[0]:
            for pre_v in pre_variants:
                v = dict(pre_v)
                v[keys[0]] = val
                variants.append(v)
        return variants

    def variants(self) -> list[dict]:
        """Every combination of the grid's values, with ``a:b`` keys turned into nested dicts."""
        if not self.keys:
            return [{}]
        flat_variants = self._variants(self.keys, self.vals)

        def unflatten_var(var):
            new_var = {}
            unflatten_set = set()
            for k, v in var.items():
                if ":" in k:
                    splits = k.split(":")
                    k0 = splits[0]
                    check(
                        k0 not in new_var or isinstance(new_var[k0], dict),
                        f"The key '{k0}' is given both as a value and as a dict of nested values; use one.",
                    )
                    new_var.setdefault(k0, {})
                    new_var[k0][":".join(splits[1:])] = v
                    unflatten_set.add(k0)
                else:
                    check(k not in new_var, f"The key '{k}' is given both as a value and as nested values; use one.")
                    new_var[k] = v
            for k in unflatten_set:
                new_var[k] = unflatten_var(new_var[k])
            return new_var

        return [unflatten_var(var) for var in flat_variants]

    def run(self, thunk, num_cpu=1, data_dir=None, datestamp=False, backend="local", address=None):
        """Run ``thunk`` once for every variant; each run gets ``num_cpu`` MPI processes.

        Args:
            thunk: The function to run for each variant, such as ``spinup.ppo``.
            num_cpu: Processes per variant (``'auto'``: one per core).
            data_dir: Parent folder of the outputs.
            datestamp: Put dates in folder names.
            backend: ``'local'`` runs variants one after another on this machine; ``'ray'`` runs
                them as Ray tasks (see :mod:`spinup.utils.ray_backend`).
            address: The Ray cluster to use with ``backend='ray'`` (default: a local Ray).

        Returns:
            The list of output directories, one per variant.
        """
        self.print()
        variants = self.variants()
        var_names = {self.variant_name(var) for var in variants}
        var_names = sorted(var_names)
        line = DIV_LINE
        preparing = colorize("Preparing to run the following experiments...", color="green", bold=True)
        joined_var_names = "\n".join(var_names)
        print(dedent(f"\n{line}\n\n{preparing}\n\n{joined_var_names}\n\n{line}\n"))
        if WAIT_BEFORE_LAUNCH > 0:
            time.sleep(WAIT_BEFORE_LAUNCH)

        jobs = []
        for var in variants:
            exp_name = self.variant_name(var)
            kwargs = deepcopy(var)
            seed = kwargs.pop("seed", 0)
            jobs.append((exp_name, seed, kwargs))
        if backend == "ray":
            from spinup.utils.ray_backend import run_on_ray

            return run_on_ray(jobs, thunk, num_cpu=num_cpu, data_dir=data_dir, datestamp=datestamp, address=address)
        check(backend == "local", f"Unknown backend '{backend}'; use 'local' or 'ray'.")
        return [
            call_experiment(exp_name, thunk, seed=seed, num_cpu=num_cpu, data_dir=data_dir, datestamp=datestamp, **kwargs)
            for exp_name, seed, kwargs in jobs
        ]
