"""Runs one pickled thunk: the process ``call_experiment`` starts (under mpirun for N > 1).

Arguments: the encoded thunk, then optionally a file for the run's one-line error (read by a
grid's summary), the algorithm's name and the output folder (to say how to resume it).
"""

import base64
import os.path as osp
import shlex
import sys
import zlib

import cloudpickle


def main(encoded: str, error_file: str = "", algo: str = "", output_dir: str = "") -> int:
    from spinup.utils.checks import NumericalError, RunStopped, UserError
    from spinup.utils.mpi_tools import proc_id

    def say(message, reason=None):
        if proc_id() == 0:  # under mpirun every process would say it
            print(message, file=sys.stderr, flush=True)
            if error_file:
                with open(error_file, "w") as f:
                    f.write(reason or message)

    thunk = cloudpickle.loads(zlib.decompress(base64.b64decode(encoded)))
    try:
        thunk()
    except UserError as e:
        say(f"Error: {e}", str(e))
        return 2
    except NumericalError as e:
        say(f"Error: {e}", str(e))
        return 1
    except RunStopped as e:
        say(str(e))
        return 130
    except KeyboardInterrupt:
        say("Interrupted; progress.txt and the last checkpoint are kept." + _resume_hint(algo, output_dir),
            "interrupted")
        return 130
    return 0


def _resume_hint(algo: str, output_dir: str) -> str:
    from spinup.utils.logx import Logger

    if not (algo and output_dir and osp.exists(Logger.checkpoint_path(output_dir))):
        return ""
    return f" Continue with: spinup {algo} --resume {shlex.quote(output_dir)}"


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
