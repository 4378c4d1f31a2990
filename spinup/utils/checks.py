"""The one exception type for mistakes a user can make.

Anything raised as :class:`UserError` is shown on the command line as a single sentence with exit
code 2, never as a traceback. From Python it is an ordinary ``ValueError``.
"""

from __future__ import annotations


class UserError(ValueError):
    """A problem with the user's input, worded as what was wrong and what to do about it."""


def check(condition: bool, message: str) -> None:
    """Raise :class:`UserError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise UserError(message)


def _is_int(v) -> bool:
    import numbers

    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_positive_ints(**named) -> None:
    """Refuse any argument that is not an integer >= 1, naming it."""
    for name, v in named.items():
        check(_is_int(v) and v >= 1, f"{name} must be a positive integer, not {v!r}.")


def check_nonnegative_ints(**named) -> None:
    for name, v in named.items():
        check(_is_int(v) and v >= 0, f"{name} must be an integer >= 0, not {v!r}.")


def check_unit_interval(**named) -> None:
    """Refuse any argument outside [0, 1] (discount factors, GAE lambda, polyak, ...)."""
    for name, v in named.items():
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0
        check(ok, f"{name} must be a number between 0 and 1, not {v!r}.")


def check_positive_numbers(**named) -> None:
    for name, v in named.items():
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
        check(ok, f"{name} must be a positive number, not {v!r}.")


def check_seed(seed) -> None:
    check(_is_int(seed) and seed >= 0, f"seed must be an integer >= 0, not {seed!r}.")


class NumericalError(RuntimeError):
    """Training produced a NaN or an infinity; the message names the epoch and the quantity."""


class RunStopped(KeyboardInterrupt):
    """The user stopped a run (Ctrl-C); a checkpoint was saved first. The message says where."""


def check_replay_fits(name: str, size: int, bytes_per_transition: int, device="cpu") -> None:
    """Refuse a replay buffer that would not fit in the memory that is free now.

    ``bytes_per_transition`` counts everything one stored transition takes. On the CPU the buffer
    is compared with the available memory the kernel reports; on a GPU, with the device's free
    memory. The message names both sizes and a ``replay_size`` that would fit in half of it.
    """
    need = int(size) * int(bytes_per_transition)
    free = _free_bytes(device)
    if free is None or need <= free:
        return
    fits = max(1, int(0.5 * free // max(1, bytes_per_transition)))
    raise UserError(
        f"{name}'s replay buffer needs {need / 2**30:.1f} GiB for replay_size={size}, but only "
        f"{free / 2**30:.1f} GiB of memory is available: pass a smaller replay_size (about {fits:,} would fit)."
    )


def _free_bytes(device) -> int | None:
    """Free memory on ``device`` in bytes, or None when it cannot be read."""
    device = str(device)
    if device.startswith("cuda"):
        try:
            import torch

            return int(torch.cuda.mem_get_info(torch.device(device))[0])
        except Exception:
            return None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
