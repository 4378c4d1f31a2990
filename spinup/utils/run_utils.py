"""Launching experiments: output directories, one run in a fresh process, and grids of runs."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import os.path as osp
import shlex
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from copy import deepcopy
from textwrap import dedent

import cloudpickle

from spinup.user_config import DEFAULT_DATA_DIR, DEFAULT_SHORTHAND, FORCE_DATESTAMP, WAIT_BEFORE_LAUNCH
from spinup.utils.checks import UserError, check
from spinup.utils.logx import colorize
from spinup.utils.envs import make_env_fn
from spinup.utils.mpi_tools import mpirun_command, mpirun_env
from spinup.utils.serialization_utils import convert_json

DIV_LINE = "=" * 80
# Most file systems allow 255 bytes per folder name; a variant's name leaves room for the seed
# and date parts that setup_logger_kwargs adds around it.
MAX_NAME = 200


class ExperimentFailed(RuntimeError):
    """A launched run exited with an error; ``returncode`` is its exit status (2 for bad input).

    ``reason`` is the run's own one-line error, when it printed one.
    """

    def __init__(self, exp_name: str, returncode: int, reason: str | None = None):
        super().__init__(f"The run '{exp_name}' failed with exit status {returncode}; its error is printed above.")
        self.exp_name = exp_name
        self.returncode = returncode
        self.reason = reason

    def __reduce__(self):  # pickled with its fields, so a Ray task can hand it back to the sweep
        return (ExperimentFailed, (self.exp_name, self.returncode, self.reason))


class GridFailed(ExperimentFailed):
    """Some variants of a grid failed; the others ran to the end. The message lists the failures."""

    def __init__(self, failures: list, total: int):
        codes = {f.returncode for f in failures}
        super().__init__("grid", 2 if codes == {2} else 1)
        self.failures, self.total = failures, total
        parts = [f"{f.exp_name} ({f.reason or f'exit status {f.returncode}'})" for f in failures]
        self.args = (f"{len(failures)} of {total} runs failed and the others finished: " + "; ".join(parts),)

    def __reduce__(self):
        return (GridFailed, (self.failures, self.total))


def quote_path(path: str) -> str:
    """``path`` as it can be pasted into a shell (quoted when it holds spaces or other specials)."""
    return shlex.quote(str(path))


def check_output_dir(output_dir: str) -> None:
    """Refuse, before anything runs, an output folder that cannot be made or written."""
    output_dir = osp.abspath(output_dir)
    for part in output_dir.split(os.sep):
        check(len(part.encode()) <= 255, f"The folder name '{part[:40]}...' is {len(part.encode())} bytes long; "
              "folder names can have at most 255, so choose a shorter --exp_name or --data_dir.")
    parent = output_dir
    while not osp.exists(parent):
        parent = osp.dirname(parent)
    check(osp.isdir(parent), f"Cannot make the output folder {output_dir}: {parent} is a file, not a folder; "
          "choose another --data_dir or --exp_name.")
    try:  # os.access says yes to root even on a read-only file system: try it
        tempfile.TemporaryDirectory(dir=parent).cleanup()
    except OSError as e:
        raise UserError(f"Cannot write the output folder {output_dir}: {parent} is not writable "
                        f"({e.strerror}); choose another --data_dir.") from None


class _ArgumentsChecked(Exception):
    """Raised where an algorithm first reaches for its logger or its environment: its own checks
    of its arguments, which come before both, have passed."""


class _StopAtFirstUse:
    """Stands in for ``logger_kwargs``: unpacking it or reading from it ends the check."""

    def keys(self):
        raise _ArgumentsChecked

    def __getitem__(self, key):
        raise _ArgumentsChecked

    __iter__ = __len__ = get = items = keys


def _stop_env_fn():
    raise _ArgumentsChecked


def _is_spinup_algorithm(thunk) -> bool:
    return callable(thunk) and str(getattr(thunk, "__module__", "")).startswith("spinup.algos.")


def _algorithm_command_name(thunk) -> str:
    """The ``spinup`` command that runs ``thunk`` ('ppo', 'ppo_jax'), or '' for other functions."""
    if not _is_spinup_algorithm(thunk):
        return ""
    return thunk.__name__ + ("_jax" if thunk.__module__.startswith("spinup.algos.jax.") else "")


def check_arguments(thunk, kwargs: dict) -> None:
    """Run a spinup algorithm's own argument checks on ``kwargs`` without training.

    The algorithm is called with a logger and an environment that stop it at their first use,
    which comes after its checks, so a bad value is refused now, before any run starts. Functions
    other than spinup's algorithms are not called.
    """
    kwargs = dict(kwargs)
    if "env_name" in kwargs:
        make_env_fn(kwargs.pop("env_name"))  # refuses an unknown id
    if not _is_spinup_algorithm(thunk):
        return
    kwargs.update(env_fn=_stop_env_fn, logger_kwargs=_StopAtFirstUse())
    kwargs.pop("resume", None)
    try:
        thunk(**kwargs)
    except _ArgumentsChecked:
        return
    except UserError:
        raise
    except TypeError as e:
        if "unexpected keyword argument" in str(e):
            name = getattr(thunk, "__name__", "the algorithm")
            raise UserError(f"{name} has no argument {str(e).split('argument')[-1].strip()}; "
                            f"help({name}) lists its arguments.") from None
    except Exception:
        pass  # anything else is the run's to report, with its full context


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
    check_arguments(thunk, kwargs)
    check_output_dir(setup_logger_kwargs(exp_name, seed, data_dir, datestamp)["output_dir"])
    print(colorize(f"Running experiment:\n\n{exp_name}\n\nwith kwargs:\n", color="cyan", bold=True))
    print(json.dumps(convert_json(kwargs), separators=(",", ":\t"), indent=4, sort_keys=True), "\n")
    # logger_kwargs given without an output_dir (e.g. only tensorboard=True) keep the usual layout
    given = dict(kwargs.get("logger_kwargs") or {})
    kwargs["logger_kwargs"] = {**setup_logger_kwargs(exp_name, seed, data_dir, datestamp), **given}
    if _is_spinup_algorithm(thunk):
        # Decided here, where the user's terminal is: under mpirun a run's output is a pseudo-terminal
        # even when the user redirected it to a file, and the bar would fill that file.
        kwargs["logger_kwargs"].setdefault("progress_bar", sys.stdout.isatty())
    if "env_name" in kwargs:
        env_name = kwargs.pop("env_name")
        kwargs["env_fn"] = make_env_fn(env_name)
    output_dir = kwargs["logger_kwargs"]["output_dir"]

    encoded = base64.b64encode(zlib.compress(cloudpickle.dumps(lambda: thunk(**kwargs)))).decode("ascii")
    # the run writes its one-line error here, for a grid's summary; the algorithm's name and the
    # output folder let it say how to resume after a second Ctrl-C
    error_file = tempfile.NamedTemporaryFile(prefix="spinup-error-", suffix=".txt", delete=False)
    error_file.close()
    algo_name = _algorithm_command_name(thunk)
    cmd = [sys.executable, "-u", "-m", "spinup.utils.run_entrypoint", encoded, error_file.name, algo_name, output_dir]
    env = dict(os.environ)
    if num_cpu > 1:
        cmd = mpirun_command(num_cpu) + cmd
        env = mpirun_env()
    # Ctrl-C reaches the run itself, which saves a checkpoint and stops; this launcher only waits
    # for it (a handler, not SIG_IGN, so the run does not inherit the ignoring).
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None) if _in_main_thread() else None
    try:
        returncode = subprocess.call(cmd, env=env)
        with open(error_file.name) as f:
            reason = f.read().strip() or None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        os.unlink(error_file.name)
    if returncode != 0:
        raise ExperimentFailed(exp_name, returncode, reason)

    print(
        colorize(f"\n{DIV_LINE}\nEnd of experiment. Outputs are in {quote_path(output_dir)}\n\n", "cyan")
        + f"Plot results:    spinup plot {quote_path(output_dir)}\n"
        + f"Watch the agent: spinup test_policy {quote_path(output_dir)}\n"
        + DIV_LINE
        + "\n"
    )
    return output_dir


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
    # 1e30 prints as 1e+30: dropping the '+' keeps the sign right once '+' would become '-'
    str_v = str(v).lower().replace("e+", "e")
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
        for i, v in enumerate(vals):
            check(not any(_same_value(v, w) for w in vals[:i]),
                  f"The key '{key}' lists the value {convert_json(v)!r} twice, which would run the same "
                  "experiment twice into one folder; give each value once.")
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
        var_name = var_name.lstrip("_")
        if len(var_name) > MAX_NAME:
            digest = hashlib.sha1(var_name.encode()).hexdigest()[:8]
            var_name = var_name[: MAX_NAME - 9].rstrip("_-") + "_" + digest
        return var_name

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

        Raises:
            GridFailed: some variants failed; every other one still ran to its end, on either
                backend. (A grid of one variant raises its :class:`ExperimentFailed` instead.)
        """
        check(backend in ("local", "ray"), f"Unknown backend '{backend}'; use 'local' or 'ray'.")
        variants = self.variants()
        jobs = []
        for var in variants:
            exp_name = self.variant_name(var)
            kwargs = deepcopy(var)
            seed = kwargs.pop("seed", 0)
            jobs.append((exp_name, seed, kwargs))
        # Every variant's arguments and folder are checked before the first one trains.
        folders = {}
        for exp_name, seed, kwargs in jobs:
            check_arguments(thunk, {**kwargs, "seed": seed})
            output_dir = setup_logger_kwargs(exp_name, seed, data_dir, datestamp)["output_dir"]
            check(output_dir not in folders, f"Two variants would write into one folder, {output_dir}; give "
                  "them different values or add the differing key with in_name=True.")
            folders[output_dir] = exp_name
            check_output_dir(output_dir)
            if not kwargs.get("logger_kwargs", {}).get("overwrite", False):
                # the logger refuses such a folder too; saying so here comes before the banner
                from spinup.utils.logx import _holds_run

                check(not _holds_run(output_dir), f"{quote_path(output_dir)} already holds a run; give this one another "
                      f"exp_name (or a datestamp, --dt), continue that one with --resume {quote_path(output_dir)}, or "
                      "replace it with --overwrite (overwrite=True in logger_kwargs).")

        self.print()
        var_names = sorted({exp_name for exp_name, _, _ in jobs})
        line = DIV_LINE
        preparing = colorize("Preparing to run the following experiments...", color="green", bold=True)
        joined_var_names = "\n".join(var_names)
        print(dedent(f"\n{line}\n\n{preparing}\n\n{joined_var_names}\n\n{line}\n"))
        if any(len(n) == MAX_NAME and n[-9] == "_" for n in var_names):
            print(f"Names longer than {MAX_NAME} characters were cut and end in a hash of the full name; "
                  "each run's config.json holds its full arguments.\n")
        if WAIT_BEFORE_LAUNCH > 0:
            time.sleep(WAIT_BEFORE_LAUNCH)

        if backend == "ray":
            from spinup.utils.ray_backend import run_on_ray

            outputs, failures = run_on_ray(jobs, thunk, num_cpu=num_cpu, data_dir=data_dir, datestamp=datestamp,
                                           address=address)
        else:
            outputs, failures = _run_here(jobs, thunk, num_cpu=num_cpu, data_dir=data_dir, datestamp=datestamp)
        # Both backends run every variant; a failure of any is reported here, once all have ended.
        if failures:
            if len(jobs) == 1:
                raise failures[0]
            raise GridFailed(failures, len(jobs))
        return outputs


def _run_here(jobs, thunk, num_cpu, data_dir, datestamp):
    """Run ``jobs`` one after another on this machine: the output dirs of those that finished,
    and an :class:`ExperimentFailed` (named ``exp_name_s{seed}``) for each that did not."""
    outputs, failures = [], []
    for i, (exp_name, seed, kwargs) in enumerate(jobs):
        try:
            outputs.append(call_experiment(exp_name, thunk, seed=seed, num_cpu=num_cpu, data_dir=data_dir,
                                           datestamp=datestamp, **kwargs))
        except ExperimentFailed as e:
            e.exp_name = f"{exp_name}_s{seed}"
            if e.returncode == 130 and len(jobs) > 1:  # the user stopped the sweep: don't start the rest
                _say_not_run(jobs[i + 1:])
                raise
            failures.append(e)
        except KeyboardInterrupt:
            _say_not_run(jobs[i + 1:])
            raise
    return outputs, failures


def _say_not_run(jobs) -> None:
    if jobs:
        names = ", ".join(f"{exp_name}_s{seed}" for exp_name, seed, _ in jobs)
        print(f"The sweep was stopped; these {len(jobs)} runs never started: {names}.", file=sys.stderr, flush=True)


def _same_value(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False
