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
    """Run ``jobs`` (``(exp_name, seed, kwargs)`` triples) as Ray tasks; return their output dirs.

    Args:
        address: A running cluster's address (``ray://host:10001`` or ``host:6379``); ``None``
            starts a Ray on this machine for the duration of the sweep.
    """
    from spinup.utils.run_utils import call_experiment, resolve_num_cpu

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
        return call_experiment(exp_name, thunk, seed=seed, num_cpu=num_cpu, data_dir=data_dir,
                               datestamp=datestamp, **kwargs)

    try:
        futures = [run_variant.remote(exp_name, seed, kwargs) for exp_name, seed, kwargs in jobs]
        return ray.get(futures)
    finally:
        if started_here:
            ray.shutdown()
