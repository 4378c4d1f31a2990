"""Runs one pickled thunk: the process ``call_experiment`` starts (under mpirun for N > 1)."""

import base64
import sys
import zlib

import cloudpickle


def main(encoded: str) -> int:
    from spinup.utils.checks import NumericalError, RunStopped, UserError
    from spinup.utils.mpi_tools import proc_id

    def say(message):
        if proc_id() == 0:  # under mpirun every process would say it
            print(message, file=sys.stderr, flush=True)

    thunk = cloudpickle.loads(zlib.decompress(base64.b64decode(encoded)))
    try:
        thunk()
    except UserError as e:
        say(f"Error: {e}")
        return 2
    except NumericalError as e:
        say(f"Error: {e}")
        return 1
    except RunStopped as e:
        say(str(e))
        return 130
    except KeyboardInterrupt:
        say("Interrupted; progress.txt and the last checkpoint are kept.")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
