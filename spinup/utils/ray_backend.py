"""Running an ExperimentGrid's variants as Ray tasks: on this machine, or on a Ray cluster.

Each variant becomes one task that asks Ray for ``num_cpu`` CPUs and runs the variant exactly as
the local backend does (``call_experiment``: a fresh process, ``mpirun`` when ``num_cpu > 1``),
so results land in the same ``data_dir/exp_name/exp_name_s{seed}`` layout. On a cluster, the data
directory is written on whichever node ran the task: give every node the same shared path (NFS, a
mounted bucket) or collect the folders afterwards.
"""

from __future__ import annotations

import os

from spinup.user_config import DEFAULT_DATA_DIR
from spinup.utils.checks import UserError


def _ray():
    try:
        import ray
    except ImportError:
        raise UserError('Sweeps on Ray need the ray package; run `pip install "spinup[ray]"`.') from None
    return ray


def run_on_ray(jobs, thunk, num_cpu=1, data_dir=None, datestamp=False, address=None):
    """Run ``jobs`` (``(exp_name, seed, kwargs)`` triples) as Ray tasks, every one to its end.

    Args:
        address: A running cluster's address (``ray://host:10001`` or ``host:6379``); ``None``
            starts a Ray on this machine for the duration of the sweep (or uses the one this
            process has already started with ``ray.init``).

    Returns:
        ``(outputs, failures)``: the output dirs of the runs that finished, in the order of
        ``jobs``, and an :class:`~spinup.utils.run_utils.ExperimentFailed` for each that did not,
        named ``exp_name_s{seed}`` and holding the run's one-line error.
    """
    from spinup.utils.run_utils import ExperimentFailed, call_experiment, resolve_num_cpu

    ray = _ray()
    num_cpu = resolve_num_cpu(num_cpu)
    data_dir = os.path.abspath(data_dir or DEFAULT_DATA_DIR)
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=True,
                     configure_logging=False, runtime_env={"env_vars": {"PYTHONUNBUFFERED": "1"}})
        except ConnectionError as e:
            raise UserError(f"Could not reach a Ray cluster at {address}: {e}") from None

    @ray.remote(num_cpus=num_cpu, max_retries=0)
    def run_variant(exp_name, seed, kwargs):
        # A failed run is a result, not an error of the task: the sweep carries on with the others.
        try:
            return call_experiment(exp_name, thunk, seed=seed, num_cpu=num_cpu, data_dir=data_dir,
                                   datestamp=datestamp, **kwargs)
        except ExperimentFailed as e:
            return e

    try:
        futures = [run_variant.remote(exp_name, seed, kwargs) for exp_name, seed, kwargs in jobs]
        outputs, failures = [], []
        for (exp_name, seed, _), future in zip(jobs, futures):
            try:
                result = ray.get(future)
            except ray.exceptions.RayError as e:  # the task itself broke: its worker died, or an error
                result = ExperimentFailed(exp_name, 1, _one_line(e))
            if isinstance(result, ExperimentFailed):
                result.exp_name = f"{exp_name}_s{seed}"
                failures.append(result)
            else:
                outputs.append(result)
        return outputs, failures
    finally:
        if started_here:
            ray.shutdown()


def _one_line(error) -> str:
    """The last line of what a failed Ray task says (its exception, or why its worker died)."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
