"""Runs one pickled thunk: the process ``call_experiment`` starts (under mpirun for N > 1)."""

import base64
import sys
import zlib

import cloudpickle


def main(encoded: str) -> int:
    from spinup.utils.checks import UserError

    thunk = cloudpickle.loads(zlib.decompress(base64.b64decode(encoded)))
    try:
        thunk()
    except UserError as e:
        print(f"Error: {e}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("Interrupted; the last saved model and progress.txt are kept.", file=sys.stderr, flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
