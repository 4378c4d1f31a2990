"""Logging for experiments: a table of diagnostics per epoch, the run's configuration, saved models.

Typical use inside an algorithm::

    logger = EpochLogger(**logger_kwargs)
    logger.save_config(locals())
    logger.setup_pytorch_saver(ac, env=env, ac_kwargs=ac_kwargs)
    ...
    logger.store(EpRet=ep_ret, EpLen=ep_len)       # any number of times per epoch
    ...
    logger.log_tabular("EpRet", with_min_and_max=True)
    logger.log_tabular("Epoch", epoch)
    logger.dump_tabular()                           # prints the row and appends it to progress.txt

Only the MPI process of rank 0 writes anything; statistics from :class:`EpochLogger` are pooled
over all processes.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import math
import os
import os.path as osp
import shutil
import signal
import sys
import threading
import time
import weakref

import numpy as np
import torch

from spinup.utils import checkpoint as ckpt
from spinup.utils.checks import NumericalError, RunStopped, UserError
from spinup.utils.mpi_tools import allreduce, mpi_statistics_scalar, num_procs, proc_id
from spinup.utils.serialization_utils import atomic_write, convert_json, model_record, safe_torch_load

_COLORS = dict(gray=30, red=31, green=32, yellow=33, blue=34, magenta=35, cyan=36, white=37, crimson=38)


def colorize(string: str, color: str, bold: bool = False, highlight: bool = False) -> str:
    """``string`` wrapped in ANSI colour codes (plain when output is not a terminal)."""
    if not sys.stdout.isatty():
        return string
    attr = [str(_COLORS[color] + (10 if highlight else 0))]
    if bold:
        attr.append("1")
    return "\x1b[%sm%s\x1b[0m" % (";".join(attr), string)


class Logger:
    """Writes one tab-separated row per epoch to ``progress.txt`` and saves configs and models.

    Args:
        output_dir: Directory for all outputs; made if absent. Defaults to ``/tmp/experiments/<time>``.
        output_fname: Name of the table file inside ``output_dir``.
        exp_name: Experiment name, recorded in ``config.json`` so the plotter can use it as a legend.
        tensorboard: Also write every tabular value as a TensorBoard scalar (needs the ``tb`` extra),
            in ``output_dir/tb``.
        video_every: Every this many epochs, record one episode of the deterministic policy to
            ``output_dir/videos/epoch<N>.mp4`` (needs the ``video`` extra; 0: never).
        progress_bar: Show a progress bar (steps, steps per second, last average return) when
            output goes to a terminal; ``None`` decides by ``sys.stdout.isatty()``.
        resume: A run directory to continue from its last checkpoint (see
            :meth:`restore_checkpoint`). Outputs are appended there; rows of progress.txt written
            after that checkpoint are dropped, as the resumed run writes them again.
    """

    def __init__(self, output_dir=None, output_fname="progress.txt", exp_name=None, tensorboard=False,
                 video_every=0, progress_bar=None, resume=None, overwrite=False):
        self.resume_record = None
        if resume:
            output_dir = str(resume)
            ckpt.check_resumable(self.checkpoint_path(output_dir))
            self.resume_record = safe_torch_load(self.checkpoint_path(output_dir))
        self.output_dir = output_dir or _fresh_default_dir()
        self.exp_name = exp_name
        self.output_file = None
        self.output_fname = output_fname
        self.tb_writer = None
        self.first_row = True
        self.log_headers: list[str] = []
        self.log_current_row: dict = {}
        self.epoch_count = 0
        self.pytorch_saver_elements = None
        self.jax_saver_elements = None
        self.model_spec = None
        self.video_every = int(video_every or 0)
        self.progress = None
        self.total_steps = None
        self.show_progress = sys.stdout.isatty() if progress_bar is None else bool(progress_bar)
        self.checkpoint_objects, self.checkpoint_envs, self.buffer_limit = {}, {}, None
        self.env_constants: dict = {}
        self.save_freq, self.total_epochs, self.time_offset = 1, None, 0.0
        self.stop_requested = False
        self._last_time = 0.0
        self._last_checkpoint_rows = None
        # Files are written from the run's first output on (a row, a model, a checkpoint), so a run
        # refused while it is being set up leaves nothing behind.
        self.overwrite = bool(overwrite)
        self._tensorboard = bool(tensorboard)
        self._pending_config = None
        self._kept_progress = None
        self._lock = None
        if self._tensorboard:
            _check_tensorboard()
        if self.resume_record is None and _holds_run(self.output_dir) and not self.overwrite:
            raise UserError(
                f"{_quote(self.output_dir)} already holds a run; give this one another exp_name (or a datestamp, "
                f"--dt), continue that one with --resume {_quote(self.output_dir)}, or replace it with --overwrite "
                "(overwrite=True in logger_kwargs)."
            )
        if proc_id() == 0:
            self._lock = _RunLock(self.output_dir)
            weakref.finalize(self, self._lock.release)
        if self.resume_record is not None:
            self._reopen_progress(output_fname)
        else:
            self.log(f"Logging data to {_quote(osp.join(self.output_dir, output_fname))}", "green", bold=True)

    @staticmethod
    def checkpoint_path(output_dir: str) -> str:
        return osp.join(output_dir, "pyt_save", "checkpoint.pt")

    def _reopen_progress(self, output_fname: str) -> None:
        """Keep the header and the rows up to the checkpoint; append from there."""
        rows = int(self.resume_record["loop"]["rows"])
        self.epoch_count = rows
        self.time_offset = float(self.resume_record["loop"].get("elapsed", 0.0))
        path = osp.join(self.output_dir, output_fname)
        with open(path) as f:
            lines = f.read().splitlines()
        if lines:
            self.log_headers = lines[0].split("\t")
            self.first_row = False
        self._kept_progress = lines[: rows + 1] if lines else []
        dropped = max(len(lines) - 1 - rows, 0)
        self.log(f"Resuming {_quote(self.output_dir)} after epoch {rows}"
                 + (f" (dropping {dropped} row(s) written after that checkpoint)" if dropped else ""), "green", bold=True)

    def _start_writing(self) -> None:
        """Open the run's files, at its first output (rank 0 only)."""
        if proc_id() != 0 or self.output_file is not None:
            return
        self._lock.started = True
        path = osp.join(self.output_dir, self.output_fname)
        if self.resume_record is not None:
            kept = self._kept_progress
            atomic_write(path, lambda tmp: open(tmp, "w").write("".join(line + "\n" for line in kept)))
            self.output_file = open(path, "a")
        else:
            if self.overwrite:
                _remove_run_outputs(self.output_dir, self.output_fname)
            self.output_file = open(path, "w")
        atexit.register(self.output_file.close)
        if self._pending_config is not None:
            self._write_config(self._pending_config)
        if self._tensorboard:
            self.tb_writer = _make_tb_writer(self.output_dir)

    def _write_config(self, output: str) -> None:
        path = osp.join(self.output_dir, "config.json")
        atomic_write(path, lambda tmp: open(tmp, "w").write(output))

    def _release(self) -> None:
        """Let other runs use this folder: this run writes nothing more into it."""
        if self._lock is not None:
            self._lock.release()

    def log(self, msg: str, color: str = "green", bold: bool = False) -> None:
        """Print a message to stdout (rank 0 only)."""
        if proc_id() == 0:
            print(colorize(msg, color, bold=bold), flush=True)

    def log_tabular(self, key: str, val) -> None:
        """Set this epoch's value of column ``key``.

        The first epoch fixes the columns and their order; later epochs must not add new ones.
        """
        if key == "Time":
            val = val + self.time_offset  # a resumed run's clock continues where it stopped
            self._last_time = float(val)
        if self.first_row:
            self.log_headers.append(key)
        elif key not in self.log_headers:
            raise KeyError(
                f"'{key}' was not logged in the first epoch, so progress.txt has no column for it; "
                "log every column from the first call to dump_tabular."
            )
        if key in self.log_current_row:
            raise KeyError(f"'{key}' was already set this epoch; call dump_tabular before setting it again.")
        self.log_current_row[key] = val

    def save_config(self, config: dict) -> None:
        """Write ``config`` (usually the algorithm's ``locals()``) to ``config.json``.

        Values JSON can't hold are written as their name or repr: saving never fails. The logger
        itself (in an algorithm's ``locals()``) is left out. The file is written with the run's
        first output (a row of progress.txt, a model or a checkpoint), so a run refused during
        its set-up leaves no files behind.
        """
        config_json = convert_json({k: v for k, v in config.items() if not isinstance(v, Logger)})
        # the calling algorithm's name, to say how to resume it (save_config is given its locals())
        self.algo_name = sys._getframe(1).f_code.co_name
        if isinstance(config.get("epochs"), int) and isinstance(config.get("steps_per_epoch"), int):
            self.total_steps = config["epochs"] * config["steps_per_epoch"]
        self.total_epochs = config.get("epochs")
        self.save_freq = config.get("save_freq") or 1
        if self.show_progress and proc_id() == 0 and self.progress is None:
            from tqdm import tqdm

            # made here, when training starts, so its steps-per-second rate is right
            self.progress = tqdm(total=self.total_steps, unit="step", dynamic_ncols=True, leave=True,
                                 desc=self.exp_name or "training")
            atexit.register(self.progress.close)
        if self.resume_record is not None:
            return  # the resumed run's config.json is the one it started with
        if self.exp_name is not None:
            config_json["exp_name"] = self.exp_name
        if proc_id() == 0:
            output = json.dumps(config_json, separators=(",", ":\t"), indent=4, sort_keys=True)
            self.log("Saving config:\n", color="cyan", bold=True)
            self.log(output)
            if self.output_file is not None:
                self._write_config(output)
            else:
                self._pending_config = output

    def save_state(self, state_dict: dict, itr=None) -> None:
        """Save the model (see :meth:`setup_pytorch_saver`) and, if given, a JSON-able ``state_dict``.

        Args:
            state_dict: Extra plain data to keep (written to ``vars{itr}.json``); may be empty.
            itr: ``None`` overwrites one file each time; an integer keeps a file per iteration.
        """
        if proc_id() != 0:
            return
        self._start_writing()
        suffix = "" if itr is None else "%d" % itr
        if state_dict:
            data = json.dumps(convert_json(state_dict))
            atomic_write(osp.join(self.output_dir, f"vars{suffix}.json"), lambda tmp: open(tmp, "w").write(data))
        if self.pytorch_saver_elements is not None:
            self._pytorch_simple_save(itr)
        if self.jax_saver_elements is not None:
            from spinup.utils import jax_saver

            self._check_finite_parameters()
            jax_saver.save_model(jax_saver.model_path(self.output_dir, itr), self.jax_saver_elements, *self.model_spec)

    def setup_pytorch_saver(self, what_to_save, env=None, ac_kwargs=None) -> None:
        """Register the module that :meth:`save_state` saves.

        The file holds the module's state dict plus its class, constructor arguments and the
        environment's spaces, so :func:`spinup.utils.test_policy.load_policy_and_env` can rebuild
        it with ``torch.load(..., weights_only=True)``: loading runs no pickled code.

        Args:
            what_to_save: The ``torch.nn.Module`` to save (the actor-critic).
            env: The training environment (only its spaces are recorded).
            ac_kwargs: Keyword arguments the module was built with, besides the two spaces.
        """
        self.pytorch_saver_elements = what_to_save
        self.model_spec = (env, dict(ac_kwargs or {}))

    def setup_jax_saver(self, what_to_save, env=None, ac_kwargs=None) -> None:
        """:meth:`setup_pytorch_saver` for a Flax NNX module: :meth:`save_state` then writes
        ``jax_save/model.npz`` (see :mod:`spinup.utils.jax_saver`), which loads without pickle."""
        self.jax_saver_elements = what_to_save
        self.model_spec = (env, dict(ac_kwargs or {}))

    def _pytorch_simple_save(self, itr=None) -> None:
        if proc_id() != 0:
            return
        env, ac_kwargs = self.model_spec
        self._check_finite_parameters()
        if env is None:
            raise ValueError("setup_pytorch_saver needs env= to record the observation and action spaces.")
        fpath = osp.join(self.output_dir, "pyt_save")
        fname = osp.join(fpath, "model" + ("%d" % itr if itr is not None else "") + ".pt")
        record = model_record(self.pytorch_saver_elements, env, ac_kwargs)
        atomic_write(fname, lambda tmp: torch.save(record, tmp))

    def _check_finite_parameters(self) -> None:
        if self.jax_saver_elements is not None:
            from spinup.utils.jax_saver import nonfinite_parameters

            for name in nonfinite_parameters(self.jax_saver_elements):
                self._diverged(f"the parameter {name} holds NaN or inf values")
        module = self.pytorch_saver_elements
        if module is None:
            return
        for name, p in module.named_parameters():
            if not torch.isfinite(p).all():
                self._diverged(f"the parameter {name} holds NaN or inf values")

    def _diverged(self, what: str) -> None:
        epoch = self.log_current_row.get("Epoch", self.epoch_count)
        last = self.last_checkpoint_epoch()
        kept = (f"the last good checkpoint (after epoch {last}) is kept in {self.output_dir}"
                if last is not None else "no checkpoint was written before it")
        self._release()
        raise NumericalError(f"Training diverged at epoch {epoch}: {what}; {kept}. Lower the learning rates, "
                             "or check the environment's rewards and observations.")

    def last_checkpoint_epoch(self):
        """How many epochs the newest checkpoint of this run covers (None: there is none)."""
        if self._last_checkpoint_rows is not None:
            return self._last_checkpoint_rows
        if self.resume_record is not None:
            return int(self.resume_record["loop"]["rows"])
        return None

    def dump_tabular(self) -> None:
        """Print this epoch's row, append it to progress.txt (flushed at once) and start a new row.

        Raises :class:`~spinup.utils.checks.NumericalError` (and writes nothing) when a loss in the
        row, or a parameter of the saved network, is NaN or infinite.
        """
        empty = getattr(self, "empty_columns", set())
        for key, val in self.log_current_row.items():
            if "Loss" in key and key not in empty and hasattr(val, "__float__") and not math.isfinite(float(val)):
                self._diverged(f"{key} is {float(val)}")
        empty.clear()
        self._check_finite_parameters()
        if proc_id() == 0:
            self._start_writing()
            epoch = self._epoch_number()
            vals = []
            key_lens = [len(key) for key in self.log_headers]
            max_key_len = max(15, max(key_lens))
            fmt = "| %" + str(max_key_len) + "s | %15s |"
            n_slashes = 22 + max_key_len
            lines = ["-" * n_slashes]
            for key in self.log_headers:
                val = self.log_current_row.get(key, "")
                valstr = "%8.3g" % val if hasattr(val, "__float__") else str(val)
                lines.append(fmt % (key, valstr))
                vals.append(val)
                if self.tb_writer is not None and hasattr(val, "__float__"):
                    self.tb_writer.add_scalar(key, float(val), epoch)
            lines.append("-" * n_slashes)
            self._print_table("\n".join(lines))
            if self.output_file is not None:
                if self.first_row:
                    self.output_file.write("\t".join(self.log_headers) + "\n")
                self.output_file.write("\t".join(map(str, vals)) + "\n")
                self.output_file.flush()
            if self.tb_writer is not None:
                self.tb_writer.flush()
            self._update_progress()
            if self.video_every and epoch % self.video_every == 0:
                self._record_video(epoch)
        self.log_current_row.clear()
        self.first_row = False
        self.epoch_count += 1

    def _epoch_number(self) -> int:
        """The epoch this row belongs to, as its Epoch column says (TensorBoard steps and video
        names use it); the row's index when there is no Epoch column."""
        epoch = self.log_current_row.get("Epoch")
        try:
            return int(epoch)
        except (TypeError, ValueError):
            return self.epoch_count

    def _print_table(self, table: str) -> None:
        if self.progress is not None:
            self.progress.write(table)  # above the bar, which stays at the bottom
        else:
            print(table, flush=True)

    def _update_progress(self) -> None:
        steps = self.log_current_row.get("TotalEnvInteracts")
        if self.progress is None or steps is None:
            return
        self.progress.update(int(steps) - self.progress.n)
        ret = self.log_current_row.get("AverageTestEpRet", self.log_current_row.get("AverageEpRet"))
        if ret is not None:
            self.progress.set_postfix_str(f"return {float(ret):.1f}")

    def _record_video(self, epoch: int) -> None:
        module = self.pytorch_saver_elements if self.jax_saver_elements is None else self.jax_saver_elements
        if module is None or self.model_spec is None or self.model_spec[0] is None:
            return
        if self.jax_saver_elements is not None:
            from spinup.utils.jax_checkpoint import policy_video
        else:
            from spinup.utils.video import policy_video

        path = osp.join(self.output_dir, "videos", "epoch%d.mp4" % epoch)
        try:
            result = policy_video(module, self.model_spec[0], path)
        except Exception as e:  # a video is a by-product: never lose the run over it
            self.log(f"Could not record a video ({type(e).__name__}: {e}); training goes on.", "red")
            return
        if result is not None:
            self.log(f"Recorded {result['frames']} frames to {_quote(path)}", "cyan")

    # ------------------------------------------------------------------------------------------
    # Checkpoints for resuming
    # ------------------------------------------------------------------------------------------

    def setup_checkpoint(self, env=None, test_env=None, buffer_limit=int(1e6), **objects) -> None:
        """Register what a checkpoint must hold: modules, optimisers and buffers by name.

        Args:
            env, test_env: The environments whose random and simulator state are saved.
            buffer_limit: Replay buffers holding more transitions than this are left out of the
                checkpoint (they can be large); a resumed run then starts with an empty buffer.
            **objects: Things with ``state_dict`` (modules, optimisers) or plain buffers.

        Also makes Ctrl-C stop the run cleanly at the end of the current epoch, after saving a
        checkpoint; a second Ctrl-C stops at once (the last checkpoint is kept).
        """
        self.checkpoint_objects = objects
        self.checkpoint_envs = {k: v for k, v in dict(env=env, test_env=test_env).items() if v is not None}
        self.buffer_limit = buffer_limit
        self.env_constants = {k: ckpt.env_constants(v) for k, v in self.checkpoint_envs.items()}
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._on_interrupt)

    def _on_interrupt(self, signum, frame):
        if self.stop_requested:
            raise KeyboardInterrupt
        self.stop_requested = True
        if proc_id() == 0:
            print("\nStopping at the end of this epoch to save a checkpoint (Ctrl-C again stops at once).",
                  file=sys.stderr, flush=True)

    def save_checkpoint(self, epoch: int, o, ep_ret, ep_len) -> None:
        """Call at the end of every epoch (``epoch`` epochs done); writes a checkpoint every
        ``save_freq`` epochs, at the last epoch, and when Ctrl-C asked the run to stop.

        Under MPI every process calls it: each one's random states, environment and episode in
        progress go into the checkpoint, so that each continues its own.

        Raises :class:`~spinup.utils.checks.RunStopped` after saving, when Ctrl-C was pressed.
        """
        if num_procs() > 1:  # stop together, or the others would wait for the stopped one forever
            self.stop_requested = bool(allreduce(float(self.stop_requested), "max"))
        due = epoch % self.save_freq == 0 or epoch == self.total_epochs or self.stop_requested
        if due:
            loop = dict(epoch=epoch, o=np.asarray(o), ep_ret=float(ep_ret), ep_len=int(ep_len),
                        rows=self.epoch_count, elapsed=self._last_time)
            others = None
            if num_procs() > 1:
                from spinup.utils.mpi_tools import _comm

                mine = None if proc_id() == 0 else ckpt.process_state(self.checkpoint_envs, loop, self.env_constants)
                others = _comm().gather(mine, root=0)
                others = others[1:] if others is not None else None
        if due and proc_id() == 0:
            self._start_writing()
            record, skipped = ckpt.make_checkpoint(self.checkpoint_objects, self.checkpoint_envs, loop,
                                                   self.buffer_limit, self.env_constants, others)
            if skipped and not getattr(self, "_warned_skip", False):
                self.log(f"Checkpoints leave out {', '.join(skipped)}: more than {self.buffer_limit} transitions.", "yellow")
                self._warned_skip = True
            atomic_write(self.checkpoint_path(self.output_dir), lambda tmp: torch.save(record, tmp))
            self._last_checkpoint_rows = self.epoch_count
        if due and num_procs() > 1:
            from spinup.utils.mpi_tools import _comm

            _comm().Barrier()  # no process goes on before the checkpoint is on disk
        if self.total_epochs is not None and epoch >= self.total_epochs:
            self._release()
        if self.stop_requested:
            self._release()
            raise RunStopped(f"Stopped after epoch {epoch}; the checkpoint is in {_quote(self.output_dir)}. "
                             f"Continue with: spinup {getattr(self, 'algo_name', 'ALGO')} --resume "
                             f"{_quote(self.output_dir)}")

    def restore_checkpoint(self):
        """Load the checkpoint given as ``resume`` into the registered objects and environments.

        Each MPI process takes back its own random states, environment and episode. Where that
        is not possible, the process starts a new episode (from its own seed, with zeroed return
        and length) and says why: the checkpoint was written by fewer processes, or the
        environment keeps state a checkpoint cannot hold (a game engine or physics object).

        Returns:
            ``(epoch, o, ep_ret, ep_len)``: the number of epochs done, the current observation and
            the return and length of the episode in progress.
        """
        loop = ckpt.apply_checkpoint(self.resume_record, self.checkpoint_objects, self.checkpoint_envs, proc_id())
        if loop["missing"]:
            self.log(f"The checkpoint has no {', '.join(loop['missing'])}; starting those empty.", "yellow")
        saved, now = loop["processes"], num_procs()
        if saved != now:
            lo, hi = sorted((saved, now))
            which = f"process {lo}" if hi - lo == 1 else f"processes {lo} to {hi - 1}"
            fate = (f"{which} start new episodes from their own seeds" if now > saved
                    else f"the episodes and random states of {which} are dropped")
            self.log(f"The checkpoint was written by {saved} process(es) and this run has {now}: {fate}, so the rows "
                     f"from here on differ from an uninterrupted run; resumed on {saved} (mpirun -np {saved}, as "
                     f"spinup {getattr(self, 'algo_name', 'ALGO')} --resume does), each process would continue "
                     "its own.", "yellow")
        o, ep_ret, ep_len = loop["o"], float(loop["ep_ret"]), int(loop["ep_len"])
        env = self.checkpoint_envs.get("env")
        problems = loop["env_problems"].get("env")
        if env is not None and (problems or not loop["own_state"]):
            if problems:
                name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
                self.log(f"{name} keeps state a checkpoint cannot hold ({', '.join(problems)}), so the resumed run "
                         "starts a new episode instead of continuing the saved one.", "yellow")
            o, _ = env.reset()
            ep_ret, ep_len = 0.0, 0
        return int(loop["epoch"]), o, ep_ret, ep_len


class _RunLock:
    """An exclusive lock on a run folder (``.lock`` in it) while one process writes into it.

    Locks are per folder and per process: a later run in the same process may take the folder
    over, while a run in another process is refused until this one releases it (or exits).
    """

    held: dict = {}  # real path -> (file descriptor, the _RunLock that owns it), in this process

    def __init__(self, output_dir: str):
        self.output_dir, self.started, self.released = output_dir, False, False
        missing, d = [], osp.abspath(output_dir)
        while not osp.exists(d):
            missing.append(d)
            d = osp.dirname(d)
        self.made = missing  # folders made for this run, innermost first
        os.makedirs(output_dir, exist_ok=True)
        self.key = osp.realpath(output_dir)
        self.path = osp.join(output_dir, ".lock")
        if self.key in _RunLock.held:  # an earlier run of this process that never finished: take over
            fd, previous = _RunLock.held[self.key]
            previous.released = True
            _RunLock.held[self.key] = (fd, self)
            return
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.read(fd, 32).decode(errors="replace").strip()
                os.close(fd)
                raise UserError(
                    f"{_quote(output_dir)} is being written by another run" + (f" (process {owner})" if owner else "")
                    + "; wait for it to finish, or give this run another exp_name."
                ) from None
            try:  # the file may have been removed by a run that wrote nothing, between open and lock
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _RunLock.held[self.key] = (fd, self)

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        fd, _ = _RunLock.held.pop(self.key, (None, None))
        if not self.started and osp.isdir(self.output_dir) and os.listdir(self.output_dir) == [".lock"]:
            os.remove(self.path)  # nothing was written: leave no empty folders behind
            for d in self.made:
                try:
                    os.rmdir(d)
                except OSError:
                    break
        if fd is not None:
            os.close(fd)


def _holds_run(output_dir: str) -> bool:
    """Whether ``output_dir`` holds the results of an earlier run."""
    progress = osp.join(output_dir, "progress.txt")
    saved = osp.join(output_dir, "pyt_save")
    return (osp.isfile(progress) and osp.getsize(progress) > 0) or (osp.isdir(saved) and bool(os.listdir(saved)))


def _remove_run_outputs(output_dir: str, output_fname: str) -> None:
    """Remove what an earlier run wrote into ``output_dir`` (and nothing else)."""
    for name in os.listdir(output_dir):
        path = osp.join(output_dir, name)
        if name in ("pyt_save", "videos", "tb") and osp.isdir(path):
            shutil.rmtree(path)
        elif name in (output_fname, "config.json") or name.startswith("vars") and name.endswith(".json"):
            os.remove(path)


def _fresh_default_dir() -> str:
    base = "/tmp/experiments/%i" % int(time.time())
    path, n = base, 1
    while osp.exists(path):
        path, n = f"{base}_{n}", n + 1
    return path


def _quote(path: str) -> str:
    """``path`` as a shell would need it typed (quoted when it holds spaces or such)."""
    import shlex

    return shlex.quote(str(path))


def _check_tensorboard() -> None:
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        raise UserError(
            'TensorBoard output needs the tensorboard package; run `pip install "spinup[tb]"`.'
        ) from None


def _make_tb_writer(output_dir: str):
    _check_tensorboard()
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=osp.join(output_dir, "tb"))


class EpochLogger(Logger):
    """A :class:`Logger` that also collects values during an epoch and logs their statistics.

    ``store(EpRet=...)`` any number of times, then ``log_tabular("EpRet", with_min_and_max=True)``
    writes the columns ``AverageEpRet``, ``StdEpRet``, ``MaxEpRet`` and ``MinEpRet``, computed over
    everything stored this epoch by every MPI process.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.epoch_dict: dict[str, list] = {}
        self.empty_columns: set[str] = set()

    def store(self, **kwargs) -> None:
        """Add values (scalars or arrays) to this epoch's lists, one list per keyword."""
        for k, v in kwargs.items():
            if torch.is_tensor(v):
                v = v.detach().cpu().numpy()
            self.epoch_dict.setdefault(k, []).append(v)

    def log_tabular(self, key, val=None, with_min_and_max=False, average_only=False) -> None:
        """Log ``val`` under ``key``, or, with no ``val``, statistics of what was stored under ``key``.

        Args:
            key: Column name, or the name values were stored under.
            val: A value to log as it is. If ``None``, the stored values are summarised.
            with_min_and_max: Also log ``Max<key>`` and ``Min<key>``.
            average_only: Log only ``Average<key>`` (no ``Std<key>``).
        """
        if val is not None:
            super().log_tabular(key, val)
            return
        stats = self.get_stats(key, with_min_and_max)
        if not np.isfinite(stats[0]) and not self.epoch_dict.get(key):
            # Nothing was stored this epoch (say, no update yet): NaN here means "no data", and the
            # divergence check must not mistake it for a fault.
            self.empty_columns.update({key, "Average" + key, "Std" + key, "Max" + key, "Min" + key})
        super().log_tabular(key if average_only else "Average" + key, stats[0])
        if not average_only:
            super().log_tabular("Std" + key, stats[1])
        if with_min_and_max:
            super().log_tabular("Max" + key, stats[3])
            super().log_tabular("Min" + key, stats[2])
        self.epoch_dict[key] = []

    def get_stats(self, key, with_min_and_max=False):
        """Mean and std (and min, max) of the values stored under ``key``, pooled over processes."""
        values = self.epoch_dict.get(key, [])
        flat = np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in values]) if values else np.zeros(0)
        return mpi_statistics_scalar(flat, with_min_and_max=with_min_and_max)
