"""Training speed, ours against Stable-Baselines3: environment steps per second with matched settings.

    python benchmarks/speed.py                          # every algorithm, 3 repeats
    python benchmarks/speed.py --algos ppo td3 --repeats 5 --out benchmarks/results/speed
    python benchmarks/speed.py --algos ddpg td3 sac dqn --device cuda   # off-policy on a GPU

Each timed run is a fresh Python process (``--worker``) that trains one library's algorithm for a
fixed number of steps on one task, with PyTorch on one thread in both libraries. The rate is taken
over the steps after a warm-up, through the same environment wrapper in both libraries, so
start-up, imports, buffer allocation and the random-action phase are not counted. An on-policy
run takes four epochs and is timed over the middle two, whole (each rollout with its update): the
first epoch and its update are the warm-up, and the last epoch's first step closes the window. An
off-policy run is timed over the steps past the first half, well after ``update_after``. ``--device
puts both libraries' off-policy networks and replay buffers (DDPG, TD3, SAC, DQN) on that device;
the on-policy entries always run on the CPU, as our VPG, TRPO and PPO do. The two
libraries run alternately (ours first on even repeats, SB3 first on odd ones), and the raw rate of
the environment under random actions is measured in the same rounds: the ceiling that no learner
can pass. Outputs: ``speed.md`` (a table) and ``speed.json`` (every run) in ``--out``.

How the settings are matched (what each library does per environment step):

=========  =======================================  ==============================================
algo       ours                                     Stable-Baselines3
=========  =======================================  ==============================================
ppo        4000 steps/epoch; 80 full-batch policy    PPO n_steps=4000, batch_size=4000, n_epochs=80
           steps and 80 value steps; target_kl off   (80 full-batch steps on the joint loss),
           (so every epoch does all 80)               target_kl=None
vpg        4000 steps/epoch; 1 policy step and      A2C n_steps=4000: one full-batch step on the
           train_v_iters=1 value step (our default   joint policy + value loss (SB3 has no VPG; A2C
           is 80 value steps)                        with GAE is the same algorithm)
trpo       4000 steps/epoch; CG 10 iterations,      sb3-contrib TRPO n_steps=4000, batch_size=4000,
           line search <= 10, 80 value steps         cg_max_steps=10, line_search_max_iter=10,
                                                     n_critic_updates=80
ddpg/td3/  steps_per_epoch = all steps (one epoch,  learning_starts=1000, train_freq=50,
sac        so no test episodes in the window),      gradient_steps=50, batch_size=100,
           start_steps=update_after=1000,           net_arch=[256, 256], N(0, 0.1) action noise
           update_every=50 (50 gradient steps       (DDPG/TD3); TD3 policy_delay=2; SAC
           every 50 steps), batch 100, 256x256      ent_coef=0.2 fixed
dqn        update_after=1000, update_every=50,      DQN learning_starts=1000, train_freq=50,
           batch 100, hard target copy every 1000,  gradient_steps=50, batch_size=100,
           double_dqn=False, 64x64 (images: Nature  target_update_interval=1000, net_arch=[64, 64]
           CNN then 512 units), replay 10k for      (images: CnnPolicy = Nature CNN + 512 units),
           images                                   buffer 10k for images
=========  =======================================  ==============================================

Network sizes, activations, learning rates, gamma and lambda are the same on both sides; the
initialisation differs (SB3 uses orthogonal init), which does not change the cost of a step.

``vpg_jax``, ``trpo_jax`` and ``ppo_jax`` run the JAX twins with the settings of ``vpg``, ``trpo``
and ``ppo`` against the same SB3 configurations. Every measured process is pinned to one core; a JAX
one also asks XLA for single-threaded kernels (``setup_jax_for_mpi``), and its row reports the
share of the run's wall time that went to tracing and compiling, with its seconds. Nearly all of
it falls in the warm-up, outside the rate (the rate is what a long run sees); the share says how
much it adds to a run this short. ``--core N`` pins every measured process to core N.

The matrix-multiply floor (last column, off-policy rows). DDPG, TD3 and SAC take one gradient
step per environment step, so 1 / rate is the time of one step: the update plus acting and the
environment. The floor is what the update alone would cost if it did nothing but its matrix
products: ``UPDATE_PASSES`` counts how often each network runs forward, backward to its weights
and backward to its input in one step (batch 100; HalfCheetah's 17 observation and 6 action
dimensions into 256x256 networks), ``update_matmuls`` turns that into matrix shapes, and each shape
is timed as a plain jitted ``a @ b`` on the same pinned, single-threaded core in each round (the
least of the rounds is reported). One SAC step is about 227 MFLOP of matrix products, TD3 162,
DDPG 141 and CartPole's DQN 3.5; on one core of the 2-core AMD EPYC used here (AVX2), XLA's jitted
products ran at about 49 GFLOP/s of CPU time (23 for DQN's 64-wide layers): floors of about 4.7,
3.3, 2.9 and 0.15 ms. The floor is CPU time and the rate is wall time, so on a loaded machine the
ratio also counts the time the core spent on other work. The image DQN's convolutions have no floor.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

ON_POLICY_EPOCH = 4000
ALL_ALGOS = ["ppo", "ppo-default", "vpg", "trpo", "ddpg", "td3", "sac", "dqn", "dqn-image",
             "vpg_jax", "trpo_jax", "ppo_jax", "ddpg_jax", "td3_jax", "sac_jax", "dqn_jax", "dqn-image_jax"]
ON_POLICY = ("ppo", "vpg", "trpo")

# algo -> (environment, default total steps, default warm-up steps); on-policy ones count in epochs
TASKS = {
    "ppo": ("HalfCheetah-v5", 4 * ON_POLICY_EPOCH, ON_POLICY_EPOCH),
    "ppo-default": ("HalfCheetah-v5", 4 * ON_POLICY_EPOCH, ON_POLICY_EPOCH),
    "vpg": ("HalfCheetah-v5", 4 * ON_POLICY_EPOCH, ON_POLICY_EPOCH),
    "trpo": ("HalfCheetah-v5", 4 * ON_POLICY_EPOCH, ON_POLICY_EPOCH),
    # The JAX twins, with the same settings as the PyTorch entries (and the same SB3 counterparts)
    "vpg_jax": ("HalfCheetah-v5", 4 * ON_POLICY_EPOCH, ON_POLICY_EPOCH),
    "trpo_jax": ("HalfCheetah-v5", 4 * ON_POLICY_EPOCH, ON_POLICY_EPOCH),
    "ppo_jax": ("HalfCheetah-v5", 4 * ON_POLICY_EPOCH, ON_POLICY_EPOCH),
    "ddpg": ("HalfCheetah-v5", 3000, 1500),
    "td3": ("HalfCheetah-v5", 3000, 1500),
    "sac": ("HalfCheetah-v5", 3000, 1500),
    "dqn": ("CartPole-v1", 6000, 2000),
    "dqn-image": ("SpinupBench/CatchImage-v0", 1000, 600),
}
# The JAX twins run their PyTorch twins' tasks and settings (SB3 is measured beside each)
TASKS.update({name + "_jax": TASKS[name] for name in ("ddpg", "td3", "sac", "dqn", "dqn-image")})


def base_algo(name: str) -> str:
    """The spinup function an entry runs: ``ppo`` for ``ppo-default``, ``dqn_jax`` for ``dqn-image_jax``."""
    head, _, tail = name.partition("-")
    return head + ("_jax" if tail.endswith("_jax") else "")


def variant(name: str) -> str:
    """The entry without its framework: ``dqn-image`` for ``dqn-image`` and ``dqn-image_jax``."""
    return name.removesuffix("_jax")


def family(name: str) -> str:
    """The algorithm whatever the framework: ``ppo`` for ``ppo``, ``ppo-default`` and ``ppo_jax``."""
    return base_algo(name).removesuffix("_jax")


def is_jax(name: str) -> bool:
    return base_algo(name).endswith("_jax")


class CompileClock:
    """Seconds JAX spends tracing, lowering and compiling, summed from its monitoring events."""

    EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
              "/jax/core/compile/backend_compile_duration")

    def __init__(self):
        import jax.monitoring

        self.seconds = 0.0
        jax.monitoring.register_event_duration_secs_listener(self._on_event)

    def _on_event(self, event, duration, **_):
        if event in self.EVENTS:
            self.seconds += duration


# ---------------------------------------------------------------------------------------------
# The matrix-multiply floor of one off-policy gradient step
# ---------------------------------------------------------------------------------------------

# The networks of one gradient step as layer widths (input first), on HalfCheetah-v5 (17 observation
# and 6 action dimensions, 256x256) and CartPole-v1 (4 and 2 actions, 64x64). SAC's mean and log-std
# heads count as one layer of 12 outputs, which has their FLOPs.
_Q, _PI, _PI_SAC, _DQN = (23, 256, 256, 1), (17, 256, 256, 6), (17, 256, 256, 12), (4, 64, 64, 2)

# Per gradient step, how many times each network runs forward ("fwd"), backward to its weights
# ("back": weight gradients of every layer, input gradients of all but the first) and backward
# through it to its input only ("through": the policy's gradient passing a Q-function held fixed).
# TD3 updates the policy every second step, so its policy terms count half.
UPDATE_PASSES = {
    # Q-step: Q1, Q2 on (s, a), targets on (s', a'), a' from pi(s'); pi-step: pi(s), Q1, Q2 on it
    "sac": [(_Q, dict(fwd=6, back=2, through=2)), (_PI_SAC, dict(fwd=2, back=1))],
    # Q-step: Q1, Q2, two targets, the target policy; every second step pi(s), Q1 on it
    "td3": [(_Q, dict(fwd=4.5, back=2, through=0.5)), (_PI, dict(fwd=1.5, back=0.5))],
    # Q-step: Q, the target Q at the target policy's action; pi-step: pi(s), Q on it
    "ddpg": [(_Q, dict(fwd=3, back=1, through=1)), (_PI, dict(fwd=2, back=1))],
    # Q on s, the target network on s' (double_dqn=False, as in the benchmark), backward through Q
    "dqn": [(_DQN, dict(fwd=2, back=1))],
}
UPDATE_BATCH = 100


def update_matmuls(algo: str, batch: int = UPDATE_BATCH) -> dict:
    """``{(m, k, n): count}``: the matrix products of one gradient step of ``algo``, as (m, k) @ (k, n)."""
    out: dict = {}
    for dims, passes in UPDATE_PASSES[algo]:
        for i, (k, n) in enumerate(zip(dims[:-1], dims[1:])):
            shapes = [((batch, k, n), passes.get("fwd", 0)),                                # x @ W
                      ((k, batch, n), passes.get("back", 0)),                               # x.T @ dy
                      ((batch, n, k), passes.get("through", 0) + (passes.get("back", 0) if i else 0))]  # dy @ W.T
            for shape, count in shapes:
                if count:
                    out[shape] = out.get(shape, 0) + count
    return out


def matmul_floor(algos, reps: int = 50) -> dict:
    """Per algorithm: FLOPs of one gradient step's matrix products, and the time they take here.

    Each shape is timed as a plain jitted matrix product on this (pinned, single-threaded) core:
    ``reps`` products of that shape in one ``lax.map``, so the per-call dispatch is spread over
    them, best of 5, in process CPU time, so that other work sharing the core is not counted. The floor is the sum of those times weighted by how often the step needs
    each shape: what the step would cost if it did nothing but its matrix products, each as fast
    as XLA does it alone. Adam, Polyak averaging and the element-wise work come on top of it.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    seconds = {}
    for algo in algos:
        for m, k, n in update_matmuls(algo):
            if (m, k, n) in seconds:
                continue
            a = jnp.asarray(np.random.randn(reps, m, k).astype(np.float32))
            b = jnp.asarray(np.random.randn(k, n).astype(np.float32))
            f = jax.jit(lambda a, b: jax.lax.map(lambda x: x @ b, a))
            f(a, b).block_until_ready()
            best = float("inf")
            for _ in range(5):
                start = time.process_time()  # CPU time: what the core spent, whatever else shares it
                f(a, b).block_until_ready()
                best = min(best, (time.process_time() - start) / reps)
            seconds[(m, k, n)] = best
    out = {}
    for algo in algos:
        shapes = update_matmuls(algo)
        flops = sum(2 * m * k * n * c for (m, k, n), c in shapes.items())
        floor_s = sum(seconds[s] * c for s, c in shapes.items())
        out[algo] = dict(mflop=flops / 1e6, floor_ms=1e3 * floor_s, gflops=flops / floor_s / 1e9)
    return out


# ---------------------------------------------------------------------------------------------
# Inside a worker process: one timed training run.
# ---------------------------------------------------------------------------------------------

def run_ours(name, env_id, steps, epoch_steps, update_after, seed, out_dir, device):
    import torch.nn as nn

    import spinup

    algo = family(name)
    fn = getattr(spinup, base_algo(name))
    # The JAX twins take jax.nn activations
    relu = __import__("jax").nn.relu if is_jax(name) else nn.ReLU
    env_fn = lambda: common.make_env(env_id)  # noqa: E731
    logger_kwargs = dict(output_dir=out_dir, output_fname="progress.txt")
    if algo in ON_POLICY:
        kw = dict(steps_per_epoch=epoch_steps, epochs=steps // epoch_steps, save_freq=10**6)
        if name in ("ppo", "ppo_jax"):
            kw.update(target_kl=1e9)  # no early stopping: all 80 policy steps, as in SB3
        if algo == "vpg":
            kw.update(train_v_iters=1)  # A2C takes one step on the value loss per rollout
        if name == "ppo-default":
            kw = dict(steps_per_epoch=epoch_steps, epochs=steps // epoch_steps)
        fn(env_fn, seed=seed, logger_kwargs=logger_kwargs, **kw)
    else:
        kw = dict(steps_per_epoch=steps, epochs=1, update_after=update_after, update_every=50,
                  batch_size=100, num_test_episodes=1, save_freq=10**6, device=device)
        if algo == "dqn":
            kw.update(double_dqn=False, target_update_every=1000)
            if variant(name) == "dqn-image":
                kw.update(replay_size=10000, ac_kwargs=dict(hidden_sizes=(512,), activation=relu))
        else:
            kw.update(start_steps=update_after, ac_kwargs=dict(hidden_sizes=(256, 256), activation=relu))
        fn(env_fn, seed=seed, logger_kwargs=logger_kwargs, **kw)


def run_sb3(name, env_id, steps, epoch_steps, update_after, seed, device):
    import numpy as np
    import torch.nn as nn

    algo = family(name)
    cls = common.sb3_class(algo)
    env = common.make_env(env_id)
    if algo in ON_POLICY:
        pk = dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=nn.Tanh)
        kw = dict(n_steps=epoch_steps, gamma=0.99, gae_lambda=0.97, policy_kwargs=pk)
        if algo == "ppo":
            kw.update(batch_size=epoch_steps, n_epochs=80, learning_rate=3e-4,
                      target_kl=0.01 if name == "ppo-default" else None)
        elif algo == "vpg":
            kw.update(learning_rate=3e-4, normalize_advantage=True)
        else:
            kw.update(batch_size=epoch_steps, n_critic_updates=80, cg_max_steps=10, cg_damping=0.1,
                      line_search_shrinking_factor=0.8, line_search_max_iter=10, target_kl=0.01,
                      learning_rate=1e-3)
        model = cls("MlpPolicy", env, seed=seed, device="cpu", **kw)
    elif algo == "dqn":
        image = variant(name) == "dqn-image"
        kw = dict(learning_starts=update_after, train_freq=50, gradient_steps=50, batch_size=100,
                  target_update_interval=1000, learning_rate=1e-3, gamma=0.99,
                  buffer_size=10000 if image else 10**6, exploration_final_eps=0.05,
                  exploration_fraction=min(1.0, 10000 / steps))
        if not image:
            kw.update(policy_kwargs=dict(net_arch=[64, 64]))
        model = cls("CnnPolicy" if image else "MlpPolicy", env, seed=seed, device=device, **kw)
    else:
        from stable_baselines3.common.noise import NormalActionNoise

        kw = dict(learning_starts=update_after, train_freq=(50, "step"), gradient_steps=50, batch_size=100,
                  learning_rate=1e-3, tau=0.005, gamma=0.99, buffer_size=10**6,
                  policy_kwargs=dict(net_arch=[256, 256], activation_fn=nn.ReLU))
        n_act = env.action_space.shape[0]
        if algo in ("ddpg", "td3"):
            kw.update(action_noise=NormalActionNoise(np.zeros(n_act), 0.1 * np.ones(n_act)))
        if algo == "td3":
            kw.update(policy_delay=2, target_policy_noise=0.2, target_noise_clip=0.5)
        if algo == "sac":
            kw.update(ent_coef=0.2)
        model = cls("MlpPolicy", env, seed=seed, device=device, **kw)
    model.learn(total_timesteps=steps)


def run_random(env_id, steps, seed):
    env = common.make_env(env_id)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()


def worker(spec: dict) -> dict:
    """One timed run in this (fresh) process: ``spec`` names the library, algorithm and budget."""
    import tempfile

    # One core for every measured process: XLA starts threads of its own, so a thread setting
    # alone would not hold a JAX run to one core
    os.sched_setaffinity(0, {spec.get("core", min(os.sched_getaffinity(0)))})
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    import torch

    torch.set_num_threads(1)  # our algorithms run on one thread; SB3 gets the same
    if spec["lib"] == "floor":
        from spinup.utils.mpi_jax import setup_jax_for_mpi

        setup_jax_for_mpi()
        return dict(spec, floor=matmul_floor(spec["families"]), cores=len(os.sched_getaffinity(0)))
    lib, name, env_id = spec["lib"], spec["algo"], spec["env"]
    steps, warmup, seed = spec["steps"], spec["warmup"], spec.get("seed", 0)
    device = spec.get("device", "cpu")
    clock = None
    if lib == "ours" and is_jax(name):
        from spinup.utils.mpi_jax import setup_jax_for_mpi

        setup_jax_for_mpi()  # before JAX starts its CPU backend, which reads the flags once
        clock = CompileClock()
    start = time.perf_counter()
    if lib == "random":
        run_random(env_id, steps, seed)
    elif lib == "ours":
        with tempfile.TemporaryDirectory() as out_dir:
            run_ours(name, env_id, steps, spec["epoch_steps"], spec["update_after"], seed, out_dir, device)
    else:
        run_sb3(name, env_id, steps, spec["epoch_steps"], spec["update_after"], seed, device)
    total = time.perf_counter() - start
    rate = common.steady_rate(common.PROBE.step_times, common.PROBE.test_spans, warmup, spec.get("end"))
    return dict(spec, rate=rate, wall_s=total, steps_seen=len(common.PROBE.step_times),
                torch_threads=torch.get_num_threads(), cores=len(os.sched_getaffinity(0)),
                compile_s=None if clock is None else clock.seconds)


# ---------------------------------------------------------------------------------------------
# The parent: plan the runs, alternate the libraries, aggregate.
# ---------------------------------------------------------------------------------------------

def plan(algos, args):
    """One dict per (algorithm) with its task and budget, after command-line overrides."""
    out = []
    for name in algos:
        env_id, steps, warmup = TASKS[name]
        if args.env:
            env_id = args.env
        on_policy = family(name) in ON_POLICY
        epoch_steps = args.epoch_steps or ON_POLICY_EPOCH
        update_after = 500 if variant(name) == "dqn-image" else 1000
        end = None  # off-policy: the window ends at the last step
        if on_policy:
            if args.steps:
                steps = max(3, round(args.steps / epoch_steps)) * epoch_steps
            elif args.epoch_steps:
                steps = 4 * epoch_steps
            # Whole epochs, each a rollout and its update: from the first step after the first
            # update (so that update, with a JAX twin's compiles, is warm-up) to the first step
            # after the last update but one. The last epoch's rollout only closes the window.
            warmup, end = epoch_steps + 1, steps - epoch_steps + 1
        elif args.steps:
            steps = args.steps
            update_after = min(update_after, steps // 4)
            warmup = max(update_after + 1, steps // 2)
        out.append(dict(algo=name, env=env_id, steps=steps, warmup=warmup, end=end, epoch_steps=epoch_steps,
                        update_after=update_after, device="cpu" if on_policy else args.device))
    return out


def summarise(rates):
    """Median, min, max and relative spread ((max - min) / median) of a list of rates."""
    if not rates:
        return None
    med = statistics.median(rates)
    return dict(median=med, min=min(rates), max=max(rates), n=len(rates),
                spread=(max(rates) - min(rates)) / med if med else float("nan"))


def aggregate(runs):
    """Per algorithm: ours, SB3 and the env's random-action ceiling; the ratio and fractions."""
    by = {}
    floors = [r["floor"] for r in runs if r.get("lib") == "floor" and "error" not in r]
    runs = [r for r in runs if r.get("lib") != "floor"]
    for r in runs:
        if "error" in r:
            continue
        by.setdefault((r["lib"], r["algo"] if r["lib"] != "random" else r["env"]), []).append(r["rate"])
    table = []
    algos = list(dict.fromkeys(r["algo"] for r in runs if r["lib"] != "random"))
    for name in algos:
        first = next(r for r in runs if r["algo"] == name and r["lib"] != "random")
        env_id, device = first["env"], first.get("device", "cpu")
        ours, sb3 = summarise(by.get(("ours", name), [])), summarise(by.get(("sb3", name), []))
        ceil = summarise(by.get(("random", env_id), []))
        row = dict(algo=name, env=env_id, device=device, ours=ours, sb3=sb3, random=ceil)
        row["ratio"] = ours["median"] / sb3["median"] if ours and sb3 else None
        # ours / SB3 within each round: the two ran back to back, under the same load
        pairs = {}
        for r in runs:
            if r.get("algo") == name and r.get("lib") in ("ours", "sb3") and "error" not in r:
                pairs.setdefault(r.get("round"), {})[r["lib"]] = r["rate"]
        row["paired_ratio"] = summarise([p["ours"] / p["sb3"] for p in pairs.values() if len(p) == 2])
        row["ours_frac"] = ours["median"] / ceil["median"] if ours and ceil else None
        row["sb3_frac"] = sb3["median"] / ceil["median"] if sb3 and ceil else None
        # JAX entries: the share of the run's wall time spent tracing and compiling
        compiled = [r for r in runs if r.get("algo") == name and r.get("lib") == "ours"
                    and r.get("compile_s") is not None and "error" not in r]
        row["compile_share"] = summarise([r["compile_s"] / r["wall_s"] for r in compiled])
        row["compile_s"] = summarise([r["compile_s"] for r in compiled])
        # Off-policy entries: one gradient step per environment step, so the time of a step
        # (1 / rate) set against the least of the rounds' matrix-multiply floors
        fam = family(name)
        per = [f[fam]["floor_ms"] for f in floors if fam in f] if variant(name) == variant(fam) else []
        row["floor_ms"] = min(per) if per else None
        row["ours_ms"] = 1e3 / ours["median"] if ours and per else None
        table.append(row)
    return table


def _fmt(s):
    if not s:
        return "-"
    return f"{s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f})"


def _fmt_ratio(s):
    return "-" if not s else f"{s['median']:.2f}x ({s['min']:.2f}-{s['max']:.2f})"


def _task(row):
    """The task, and the device where it is not the CPU."""
    device = row.get("device", "cpu")
    return row["env"] if device == "cpu" else f"{row['env']} ({device})"


def _fmt_share(s, seconds=None):
    """A JAX entry's compile share of the run, median (min-max), and its median seconds; '-' for PyTorch."""
    if not s:
        return "-"
    text = f"{100 * s['median']:.1f}% ({100 * s['min']:.1f}-{100 * s['max']:.1f})"
    return text if not seconds else f"{text}, {seconds['median']:.1f} s"


def _fmt_floor(row):
    """An off-policy entry's time per step against the matmul floor of its gradient step."""
    if row.get("floor_ms") is None:
        return "-"
    return f"{row['ours_ms']:.2f} / {row['floor_ms']:.2f} ms ({row['ours_ms'] / row['floor_ms']:.1f}x)"


def _pct(x):
    return "-" if x is None else f"{100 * x:.1f}%"


def markdown(table, info, args) -> str:
    lines = ["# Training speed: environment steps per second, ours vs Stable-Baselines3", ""]
    lines += common.machine_lines(info)
    lines += [f"- Repeats per entry: {args.repeats}; PyTorch threads per process: 1 (both libraries); "
              "each process pinned to one core (JAX entries: single-threaded XLA)", ""]
    lines += ["| algorithm | task | ours: median (min-max) | SB3: median (min-max) | ours / SB3 "
              "| ours / SB3 per round | random-action ceiling | ours % of ceiling | SB3 % of ceiling "
              "| JAX compile % of run | ours ms per step / update's matmul floor |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in table:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        lines.append(f"| {row['algo']} | {_task(row)} | {_fmt(row['ours'])} | {_fmt(row['sb3'])} | {ratio} "
                     f"| {_fmt_ratio(row.get('paired_ratio'))} "
                     f"| {_fmt(row['random'])} | {_pct(row['ours_frac'])} | {_pct(row['sb3_frac'])} "
                     f"| {_fmt_share(row.get('compile_share'), row.get('compile_s'))} | {_fmt_floor(row)} |")
    lines.append("")
    return "\n".join(lines)


def rst(table, info) -> str:
    """The machine and the table as reStructuredText (a list-table), for the docs page to include."""
    lines = [*common.machine_lines(info), "", ".. list-table::", "   :header-rows: 1", "",
             "   * - algorithm", "     - task", "     - ours: median (min-max)", "     - SB3: median (min-max)",
             "     - ours / SB3", "     - ours / SB3 per round", "     - random actions", "     - ours % of random", "     - SB3 % of random",
             "     - JAX compile % of run", "     - ours ms per step / update's matmul floor"]
    for row in table:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        cells = [row["algo"], _task(row), _fmt(row["ours"]), _fmt(row["sb3"]), ratio,
                 _fmt_ratio(row.get("paired_ratio")), _fmt(row["random"]),
                 _pct(row["ours_frac"]), _pct(row["sb3_frac"]), _fmt_share(row.get("compile_share"), row.get("compile_s")), _fmt_floor(row)]
        cells = ["n/a" if c == "-" else c for c in cells]
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {c}" for c in cells[1:]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--algos", nargs="+", default=None, choices=ALL_ALGOS,
                   help="which entries to measure (default: every algorithm spinup exports)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup-runs", type=int, default=1,
                   help="untimed rounds (ours and SB3 once each) before the timed ones")
    p.add_argument("--steps", type=int, default=None, help="total steps per run (on-policy: rounded to epochs)")
    p.add_argument("--epoch-steps", type=int, default=None, help="on-policy steps per epoch (default 4000)")
    p.add_argument("--env", default=None, help="run every entry on this task instead of its own")
    p.add_argument("--device", default="cpu",
                   help="device of the off-policy entries, both libraries (e.g. cuda); on-policy ones use the CPU")
    p.add_argument("--no-sb3", action="store_true", help="measure ours (and the ceiling) only")
    p.add_argument("--ceiling-steps", type=int, default=20000, help="random-action steps per ceiling run")
    p.add_argument("--nice", type=int, default=0, help="niceness of the worker processes")
    p.add_argument("--core", type=int, default=None,
                   help="the core every measured process is pinned to (default: the lowest this process may use)")
    p.add_argument("--out", default=os.path.join(common.REPO, "benchmarks", "results", "speed"))
    p.add_argument("--summarise-only", action="store_true",
                   help="re-read speed.json in --out and rewrite the tables (no runs)")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    if args.summarise_only:
        with open(os.path.join(args.out, "speed.json")) as f:
            data = json.load(f)
        args.repeats = data["args"]["repeats"]
        write_outputs(data["runs"], data["machine"], args, data["args"])
        return

    import spinup

    algos = args.algos or [a for a in ALL_ALGOS if hasattr(spinup, base_algo(a))]
    missing = [a for a in algos if not hasattr(spinup, base_algo(a))]
    if missing:
        print(f"not (yet) exported by spinup, skipped: {missing}")
        algos = [a for a in algos if a not in missing]
    info = common.machine_info()
    print("\n".join(common.machine_lines(info)), flush=True)

    entries = plan(algos, args)
    core = args.core if args.core is not None else min(os.sched_getaffinity(0))
    libs = ["ours"] if args.no_sb3 else ["ours", "sb3"]
    sb3_only_ours = {"ppo-default"}  # our default PPO is reported alone (issue 3's number)
    script = os.path.abspath(__file__)
    runs = []
    for rnd in range(args.warmup_runs + args.repeats):
        timed = rnd >= args.warmup_runs
        for e in entries:
            order = libs if rnd % 2 == 0 else libs[::-1]
            if e["algo"] in sb3_only_ours:
                order = ["ours"]
            for lib in order:
                r = common.run_worker_subprocess(script, dict(e, lib=lib, seed=rnd, core=core), nice=args.nice)
                r.update(lib=lib, algo=e["algo"], env=e["env"], round=rnd, timed=timed)
                msg = r.get("error") or f"{r['rate']:,.0f} steps/s"
                print(f"[round {rnd}{'' if timed else ' warm-up'}] {e['algo']:11s} {lib:5s} {e['env']}: {msg}",
                      flush=True)
                if timed:
                    runs.append(r)
        for env_id in dict.fromkeys(e["env"] for e in entries):
            spec = dict(algo="random", env=env_id, steps=args.ceiling_steps, warmup=args.ceiling_steps // 10,
                        lib="random", seed=rnd, core=core)
            r = common.run_worker_subprocess(script, spec, nice=args.nice)
            r.update(lib="random", algo="random", env=env_id, round=rnd, timed=timed)
            msg = r.get("error") or f"{r['rate']:,.0f} steps/s"
            print(f"[round {rnd}] random actions {env_id}: {msg}", flush=True)
            if timed:
                runs.append(r)

        families = sorted({family(e["algo"]) for e in entries if variant(family(e["algo"])) in UPDATE_PASSES
                           and e["env"] == TASKS[e["algo"]][0]})
        if families:  # the matrix-multiply floor, on the same core in the same round
            r = common.run_worker_subprocess(script, dict(algo="floor", lib="floor", families=families, core=core))
            r.update(lib="floor", algo="floor", env="-", round=rnd, timed=timed)
            print(f"[round {rnd}] matmul floor: {r.get('error') or r['floor']}", flush=True)
            if timed:
                runs.append(r)

    info["loadavg_end"] = common.machine_info()["loadavg"]
    write_outputs(runs, info, args, vars(args))


def write_outputs(runs, info, args, run_args):
    table = aggregate(runs)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "speed.json"), "w") as f:
        json.dump(dict(machine=info, args=run_args, table=table, runs=runs), f, indent=1)
    md = markdown(table, info, args)
    with open(os.path.join(args.out, "speed.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "speed.rst"), "w") as f:
        f.write(rst(table, info))
    print()
    print(md)
    for row in table:
        if row["algo"] == "ppo-default" and row["ours"]:
            print(f"PPO (default hyper-parameters) on {row['env']}: {row['ours']['median']:,.0f} steps/s")
    errors = [r for r in runs if "error" in r]
    if errors:
        print(f"{len(errors)} runs failed; the first: {errors[0]['error']}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
