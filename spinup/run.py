"""The command line: ``spinup ALGO --key value ...``, ``spinup plot``, ``spinup test_policy``.

Several values after a key make a grid: ``spinup ppo --env CartPole-v1 --seed 0 10 20`` runs
three experiments. Values are read with ``ast.literal_eval`` (numbers, lists, tuples, booleans);
anything else is kept as a string. No user string is ever passed to ``eval``.
"""

from __future__ import annotations

import ast
import inspect
import sys
from textwrap import dedent

from spinup.utils.checks import UserError, check

ALGOS = ["vpg", "trpo", "ppo", "ddpg", "td3", "sac", "dqn", "vpg_jax", "trpo_jax", "ppo_jax",
         "ddpg_jax", "td3_jax", "sac_jax", "dqn_jax"]
MPI_ALGOS = ["vpg", "trpo", "ppo", "vpg_jax", "trpo_jax", "ppo_jax"]
COMMANDS = ["plot", "test_policy", "exercise"]

# Command-line shorthands for arguments the algorithms take.
SUBSTITUTIONS = {
    "env": "env_name",
    "hid": "ac_kwargs:hidden_sizes",
    "act": "ac_kwargs:activation",
    "cpu": "num_cpu",
    "dt": "datestamp",
    "tensorboard": "logger_kwargs:tensorboard",
    "video_every": "logger_kwargs:video_every",
    "overwrite": "logger_kwargs:overwrite",
}
# Arguments for the launcher, not the algorithm.
RUN_KEYS = ["num_cpu", "data_dir", "datestamp", "backend", "address"]

HELP = dedent(
    """\
    Spinning Up in Deep RL

    Train an agent:
        spinup ALGO --env ENV_ID [--key value ...]     ALGO is one of: {algos}
        spinup ppo --env CartPole-v1 --exp_name cartpole --seed 0 10 20
        spinup ALGO --help                             (every argument of ALGO)
        spinup ALGO --resume DIR [--epochs N]          (continue a stopped run from its checkpoint)

    Shorthands: --env (env_name), --hid (ac_kwargs:hidden_sizes), --act (ac_kwargs:activation),
    --cpu (num_cpu; 'auto' = one per core; vpg, trpo and ppo only), --dt (datestamp).
    Several values after a key run a grid of experiments; --key:sub sets a nested argument.
    Outputs: --tensorboard (event files beside progress.txt), --video_every K (an mp4 every K epochs),
    --overwrite (replace a finished run of the same name; without it such a run is refused).
    Sweeps: --backend ray [--address HOST:PORT] runs each variant as a Ray task.
    Settings that work: --tuned applies the tuned settings for (ALGO, ENV) from spinup/tuned.toml;
    a flag given on the command line wins over a tuned value.

    Inspect results:
        spinup plot DIR [DIR ...] [--legend --xaxis --value --count --smooth --select --exclude --est --savefig]
        spinup test_policy DIR [--len --episodes --norender --itr --deterministic --video OUT.mp4]

    Exercises that grade themselves:
        spinup exercise --list
        spinup exercise NUMBER [--file MY_COPY.py | --solution] [--quick]
    """
).format(algos=", ".join(ALGOS))


def main(argv=None) -> None:
    """Entry point of the ``spinup`` console script; exits 2 with one sentence on bad input."""
    argv = sys.argv[1:] if argv is None else list(argv)
    from spinup.utils.run_utils import ExperimentFailed, GridFailed

    try:
        code = dispatch(argv)
    except UserError as e:
        print(f"Error: {e}", file=sys.stderr)
        code = 2
    except ExperimentFailed as e:
        code = e.returncode if e.returncode in (2, 130) else 1
        if code == 1 or isinstance(e, GridFailed):  # a single run has printed its own error
            print(f"Error: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        code = 130
    sys.exit(code)


def dispatch(argv) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(HELP)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "plot":
        from spinup.utils.plot import main as plot_main

        return _argparse_main(plot_main, rest)
    if cmd == "test_policy":
        from spinup.utils.test_policy import main as test_policy_main

        return _argparse_main(test_policy_main, rest)
    if cmd == "exercise":
        from spinup.exercises.__main__ import main as exercise_main

        return _argparse_main(exercise_main, rest)
    algo = cmd[: -len("_pytorch")] if cmd.endswith("_pytorch") else cmd
    if algo not in ALGOS:
        raise UserError(f"Unknown command '{cmd}'; choose an algorithm ({', '.join(ALGOS)}) or one of: "
                        f"{', '.join(COMMANDS)}. `spinup --help` shows how.")
    return run_algorithm(algo, rest)


def _argparse_main(fn, args) -> int:
    # argparse reports its own errors with exit status 2 and a usage line: keep that behaviour.
    try:
        return fn(args) or 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2


def get_algorithm(algo: str):
    import spinup

    fn = getattr(spinup, algo if algo.endswith("_jax") else algo + "_pytorch", None)
    check(fn is not None, f"The algorithm '{algo}' is not available in this version of spinup.")
    return fn


def parse_args(algo, tokens):
    """``{key: [values]}`` and ``{key: shorthand}`` from ``--key v1 v2 --flag --key2[sh] v``."""
    check(tokens, f"spinup {algo} needs at least an environment, for example: spinup {algo} --env CartPole-v1 "
          f"(`spinup {algo} --help` lists every argument).")
    check(tokens[0].startswith("--"), f"Expected an option such as --env after '{algo}', got '{tokens[0]}'.")
    args, shorthands, key = {}, {}, None
    for token in tokens:
        if token.startswith("--") and not _is_number(token):
            key = token[2:]
            check(key, "Found '--' with no name; options look like --env CartPole-v1.")
            sh = None
            if "[" in key and key.endswith("]"):
                key, sh = key[:-1].split("[", 1)
            if key in SUBSTITUTIONS:
                # a shorthand option (--hid) also names the value in folder names (hid64-64)
                sh = key if sh is None else sh
                key = SUBSTITUTIONS[key]
            if sh is not None:
                shorthands[key] = sh
            check(key not in args, f"--{key} is given twice; give all its values after one --{key}.")
            args[key] = []
        else:
            args[key].append(_parse_value(token))
    for key, vals in args.items():
        if not vals:  # a bare flag such as --dt means True
            args[key] = [True]
    return args, shorthands


def _is_number(token: str) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


def _parse_value(token: str):
    try:
        return ast.literal_eval(token)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return token


def resolve_activation(name, framework="pytorch"):
    """The activation that ``name`` ('torch.nn.ReLU', 'nn.ReLU' or 'ReLU') names: the ``torch.nn``
    module class, or for a JAX twin (``framework='jax'``) the matching ``jax.nn`` function, so that
    the same ``--act`` flag works for both twins ('jax.nn.relu' is accepted there too)."""
    if framework == "jax" and isinstance(name, str) and name.rsplit(".", 1)[0] in ("jax.nn", "nnx", "flax.nnx"):
        import jax

        fn = getattr(jax.nn, name.split(".")[-1], None)
        check(callable(fn), f"--act must name an activation such as jax.nn.relu or torch.nn.Tanh; {name!r} is not one.")
        return fn
    import torch.nn as nn

    short = name.split(".")[-1] if isinstance(name, str) else None
    ok_prefix = isinstance(name, str) and (name.count(".") == 0 or name.rsplit(".", 1)[0] in ("torch.nn", "nn"))
    cls = getattr(nn, short, None) if ok_prefix else None
    check(
        isinstance(cls, type) and issubclass(cls, nn.Module),
        f"--act must name a torch.nn module such as torch.nn.ReLU or torch.nn.Tanh; {name!r} is not one.",
    )
    if framework != "jax":
        return cls
    import jax

    fn = getattr(jax.nn, JAX_ACTIVATIONS.get(short, short.lower()), None)
    check(callable(fn), f"--act {name} has no jax.nn counterpart for the JAX twins; try torch.nn.ReLU or torch.nn.Tanh.")
    return fn


# torch.nn class names whose jax.nn function is not simply the lower-cased name
JAX_ACTIVATIONS = {"LeakyReLU": "leaky_relu", "ReLU6": "relu6", "LogSigmoid": "log_sigmoid", "SiLU": "silu"}


def check_hidden_sizes(hid):
    if isinstance(hid, int) and not isinstance(hid, bool):
        hid = [hid]
    ok = isinstance(hid, (list, tuple)) and all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hid)
    check(ok, f"--hid must be a list of positive layer widths such as \"[64,64]\", not {hid!r}.")
    return list(hid)


def apply_tuned(args, tuned, where):
    """Put the tuned values into ``args`` (the parsed flags), printing one line per value; a value
    the user gave on the command line is kept, and its line says so."""
    flat = {}
    for key, value in tuned.items():
        if isinstance(value, dict):  # ac_kwargs = {hidden_sizes = [...]}
            flat.update({f"{key}:{sub}": v for sub, v in value.items()})
        else:
            flat[key] = value
    for key, value in flat.items():
        given = args.get(key, args.get(key.split(":")[0]))
        name = key.replace(":", ".")
        if given is not None:
            shown = given[0] if len(given) == 1 else given
            print(f"tuned: {name} = {shown!r} kept from the command line, not the tuned {value!r} ({where})")
        else:
            args[key] = [value]
            print(f"tuned: {name} = {value!r} ({where})")
    sys.stdout.flush()


def run_algorithm(algo: str, tokens) -> int:
    from spinup.utils.envs import check_env_name, check_spaces, make_env_by_id
    from spinup.utils.run_utils import ExperimentGrid, resolve_num_cpu

    fn = get_algorithm(algo)
    if any(t in ("-h", "--help") for t in tokens):
        print(f"Arguments of {algo} (spinup {algo} --key value):\n")
        print(inspect.getdoc(fn))
        return 0
    args, shorthands = parse_args(algo, tokens)
    if "resume" in args:
        return resume_run(algo, fn, args)
    tuned_flag = "tuned" in args
    check(args.pop("tuned", [True]) == [True], "--tuned takes no value; write it alone, as in: "
          f"spinup {algo} --env CartPole-v1 --tuned.")

    # Every key must be an argument of the algorithm (or of the launcher).
    params = inspect.signature(fn).parameters
    for key in args:
        top = key.split(":")[0]
        if top not in params and top not in RUN_KEYS + ["env_name", "exp_name"]:
            raise UserError(f"{algo} has no argument '{top}'; `spinup {algo} --help` lists its arguments.")
    check("env_fn" not in args, "Give the environment by its id with --env (for example --env CartPole-v1).")
    check("env_name" in args, f"Say which environment to train on, for example: spinup {algo} --env CartPole-v1.")
    tuned = None
    if tuned_flag:
        from spinup.utils.tuned import tuned_kwargs

        check(len(args["env_name"]) == 1, "--tuned applies one task's settings, so give one --env with it "
              "and run each task as its own command.")
        tuned = tuned_kwargs(algo, args["env_name"][0])  # no entry: one sentence, before anything runs
    for env_name in args["env_name"]:
        check_env_name(env_name)
        env = make_env_by_id(env_name)  # refuse a wrong action space now, not in the launched run
        check_spaces(env, algo.removesuffix("_jax"))
        env.close()
    if tuned is not None:
        apply_tuned(args, tuned, f"{algo} on {args['env_name'][0]}")
    if "ac_kwargs:hidden_sizes" in args:
        args["ac_kwargs:hidden_sizes"] = [check_hidden_sizes(h) for h in args["ac_kwargs:hidden_sizes"]]
    if "ac_kwargs:activation" in args:
        framework = "jax" if algo.endswith("_jax") else "pytorch"
        args["ac_kwargs:activation"] = [resolve_activation(a, framework) for a in args["ac_kwargs:activation"]]
    if "seed" in args:
        for s in args["seed"]:
            check(isinstance(s, int) and not isinstance(s, bool) and s >= 0,
                  f"--seed takes integers >= 0, not {s!r}.")

    run_kwargs = {k: args.pop(k)[0] for k in RUN_KEYS if k in args}
    for k in ("num_cpu", "data_dir", "datestamp", "backend", "address"):
        check(k not in args, f"--{k} takes one value.")
    num_cpu = resolve_num_cpu(run_kwargs.get("num_cpu", 1))
    check(num_cpu == 1 or algo in MPI_ALGOS,
          f"{algo} runs in one process; --cpu applies to {', '.join(MPI_ALGOS)} only.")
    exp_names = args.pop("exp_name", ["cmd_" + algo])
    check(len(exp_names) == 1, "--exp_name takes one value.")
    exp_name = str(exp_names[0])

    eg = ExperimentGrid(name=exp_name)
    for key, vals in args.items():
        eg.add(key, vals, shorthand=shorthands.get(key))
    if num_cpu > 1:
        from spinup.utils.mpi_tools import mpirun_command

        mpirun_command(num_cpu)  # says how to install MPI if it is missing, before anything runs
    eg.run(fn, num_cpu=num_cpu, data_dir=run_kwargs.get("data_dir"),
           datestamp=bool(run_kwargs.get("datestamp", False)),
           **({"backend": run_kwargs["backend"]} if "backend" in run_kwargs else {}),
           **({"address": run_kwargs["address"]} if "address" in run_kwargs else {}))
    return 0


def resume_run(algo, fn, args) -> int:
    """``spinup ALGO --resume DIR [--epochs N]``: continue a run with the arguments it started with.

    Other flags may be typed again as long as they equal the run's own; one that differs is refused.
    """
    import json
    import os.path as osp

    from spinup.utils.envs import make_env_fn
    from spinup.utils.logx import Logger
    from spinup.utils.run_utils import call_experiment, quote_path
    from spinup.utils.serialization_utils import import_by_name, rebuild_kwargs, safe_torch_load

    runs = args.pop("resume")
    check(len(runs) == 1, f"--resume takes one run directory, not {len(runs)}; resume each run with its own command.")
    (run_dir,) = runs
    check(isinstance(run_dir, str) and osp.isdir(run_dir), f"--resume takes a run directory, and {run_dir!r} is not one.")
    check(osp.exists(Logger.checkpoint_path(run_dir)),
          f"{run_dir} holds no checkpoint to resume (pyt_save/checkpoint.pt); runs write one every save_freq epochs.")
    with open(osp.join(run_dir, "config.json")) as f:
        config = json.load(f)
    if osp.isdir(osp.join(run_dir, "jax_save")):
        from spinup.utils.jax_checkpoint import model_record

        record = model_record(run_dir)
    else:
        record = safe_torch_load(osp.join(run_dir, "pyt_save", "model.pt"))
    made_by = _algorithm_of(record)
    check(made_by is None or made_by == algo, f"This run was made by {made_by}, not {algo}; resume it with: "
          f"spinup {made_by} --resume {quote_path(run_dir)}")
    check(record.get("env_id") is not None, f"{run_dir} used an environment without a registered id; resume it from Python.")
    ac_kwargs = rebuild_kwargs(record["ac_kwargs"])
    done, num_cpu = _checkpoint_position(Logger.checkpoint_path(run_dir))
    for key, vals in args.items():
        check(len(vals) == 1, f"--{key} takes one value with --resume.")
        if key == "epochs":
            continue
        saved = num_cpu if key == "num_cpu" else _saved_value(key, config, record, ac_kwargs)
        check(saved is not _NOT_SAVED, f"--{key} cannot be set when resuming; with --resume only --epochs may "
              f"change, and the rest comes from {run_dir}/config.json.")
        check(_same(vals[0], saved), f"--{key} {vals[0]!r} differs from this run's {key}={saved!r}; a resumed run keeps "
              "its own arguments, so leave it out (only --epochs may change).")
    epochs = args["epochs"][0] if "epochs" in args else config.get("epochs")
    if isinstance(epochs, int) and not isinstance(epochs, bool) and done is not None and epochs >= 1:
        check(epochs > done, f"{run_dir} has already trained {done} of {epochs} epochs, so there is nothing to do; "
              f"pass --epochs N with N greater than {done} to train it further.")
    params = inspect.signature(fn).parameters
    skip = {"env_fn", "actor_critic", "ac_kwargs", "logger_kwargs", "resume", "seed"}
    kwargs = {k: v for k, v in config.items() if k in params and k not in skip}
    if "epochs" in args:
        kwargs["epochs"] = args["epochs"][0]
    kwargs["ac_kwargs"] = ac_kwargs
    kwargs["actor_critic"] = import_by_name(record["class"])
    kwargs["env_fn"] = make_env_fn(record["env_id"], **record.get("env_kwargs", {}))
    exp_name = config.get("exp_name") or osp.basename(osp.normpath(run_dir))
    # A run made with --cpu N continues on N processes, each taking back its own saved state.
    num_cpu = num_cpu or 1
    if num_cpu > 1:
        from spinup.utils.mpi_tools import mpi_available

        check(mpi_available(), f"{run_dir} was trained on {num_cpu} MPI processes and resumes on as many, but MPI "
              'support is not installed; run `pip install "spinup[mpi]"`.')
    call_experiment(exp_name, fn, seed=config.get("seed", 0), num_cpu=num_cpu,
                    logger_kwargs=dict(output_dir=run_dir, exp_name=exp_name), resume=run_dir, **kwargs)
    return 0


_NOT_SAVED = object()


def _algorithm_of(record):
    """'ppo' for a model of spinup.algos.pytorch.ppo.core ('ppo_jax' for the JAX twin); None for
    a class of the user's own."""
    import re

    m = re.match(r"spinup\.algos\.(pytorch|jax)\.(\w+)\.", str(record.get("class", "")))
    if m is None:
        return None
    return m.group(2) + ("_jax" if m.group(1) == "jax" else "")


def _saved_value(key, config, record, ac_kwargs):
    if key == "env_name":
        return record.get("env_id")
    if key.startswith("ac_kwargs:"):
        return ac_kwargs.get(key.split(":", 1)[1], _NOT_SAVED)
    if key in ("exp_name", "seed") or (key in config and ":" not in key):
        return config.get(key, _NOT_SAVED)
    return _NOT_SAVED


def _same(given, saved) -> bool:
    """Whether a retyped value equals the saved one (lists and tuples alike, 64 == 64.0,
    'torch.nn.ReLU' == the ReLU class)."""
    if isinstance(saved, type) and isinstance(given, str):
        try:
            return resolve_activation(given) is saved
        except UserError:
            return False
    if isinstance(given, (list, tuple)) and isinstance(saved, (list, tuple)):
        return len(given) == len(saved) and all(_same(a, b) for a, b in zip(given, saved))
    if isinstance(given, bool) or isinstance(saved, bool):
        return given is saved
    if isinstance(given, (int, float)) and isinstance(saved, (int, float)):
        return float(given) == float(saved)
    return given == saved or str(given) == str(saved)


def _checkpoint_position(checkpoint_path):
    """``(epochs done, processes that wrote it)`` of a checkpoint, read without loading its buffers
    into memory; ``(None, None)`` for one that cannot be read."""
    import torch

    try:
        record = torch.load(checkpoint_path, map_location="cpu", weights_only=True, mmap=True)
        return int(record["loop"]["epoch"]), 1 + len(record.get("processes", []))
    except Exception:
        return None, None  # the run reports a damaged checkpoint itself


if __name__ == "__main__":
    main()
