"""The exercises and their checkers: each reference solution passes, each untouched exercise file and
each deliberately wrong answer fails with the message that names its mistake, and bad input exits 2."""

import io
import math
import os.path as osp
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from spinup.exercises import checkers
from spinup.exercises.__main__ import main as exercise_main

EXERCISES = Path(checkers.HERE)
SOLN_1_1 = EXERCISES / "pytorch/problem_set_1_solutions/exercise1_1_soln.py"
SOLN_1_2 = EXERCISES / "pytorch/problem_set_1_solutions/exercise1_2_soln.py"
SOLN_1_3 = EXERCISES / "pytorch/problem_set_1_solutions/exercise1_3_soln.py"


def check(number, path=None, solution=False, quick=False):
    """(exit status, printed text) of checking exercise ``number``."""
    out = io.StringIO()
    code = checkers.run(number, path=None if path is None else str(path), solution=solution, quick=quick, out=out)
    return code, out.getvalue()


def variant(tmp_path, source: Path, old: str, new: str) -> Path:
    """A copy of ``source`` with ``old`` replaced by ``new`` (which must occur in it)."""
    text = source.read_text()
    assert old in text, f"{old!r} is not in {source.name}"
    path = tmp_path / f"wrong_{source.name}"
    path.write_text(text.replace(old, new))
    return path


def fail_reason(text: str) -> str:
    assert "FAIL: " in text, text
    return text.split("FAIL: ", 1)[1]


# ---------------------------------------------------------------------------------------------
# The files themselves
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["1.1", "1.2", "1.3"])
def test_starter_files_have_marked_gaps_and_solutions_have_none(number):
    exercise = checkers.get_exercise(number)
    starter = (EXERCISES / exercise.starter).read_text()
    solution = (EXERCISES / exercise.solution).read_text()
    assert starter.count("#   YOUR CODE HERE    #") == starter.count("raise NotImplementedError(") >= 1
    assert "YOUR CODE HERE" not in solution and "NotImplementedError" not in solution


def test_every_listed_file_exists():
    for exercise in checkers.EXERCISES.values():
        assert (EXERCISES / exercise.starter).is_file(), exercise.starter
        assert (EXERCISES / exercise.solution).is_file(), exercise.solution


# ---------------------------------------------------------------------------------------------
# 1.1 Gaussian log-likelihood
# ---------------------------------------------------------------------------------------------
def test_1_1_solution_matches_an_independent_formula():
    soln = checkers.reference_module("1.1")
    rng = np.random.default_rng(0)
    x, mu, log_std = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.normal(size=3)
    std = np.exp(log_std)
    by_hand = np.sum(-0.5 * ((x - mu) / std) ** 2 - np.log(std) - 0.5 * math.log(2 * math.pi), axis=1)
    out = soln.gaussian_likelihood(*(torch.as_tensor(a) for a in (x, mu, log_std)))
    np.testing.assert_allclose(out.numpy(), by_hand, rtol=1e-10)


def test_1_1_solution_passes():
    code, text = check("1.1", solution=True)
    assert code == 0 and "PASS" in text


def test_1_1_starter_fails_with_a_pointer_to_the_gap():
    code, text = check("1.1")
    assert code == 1
    reason = fail_reason(text)
    assert "NotImplementedError" in reason and "YOUR CODE HERE" in reason and "line" in reason
    assert "Traceback" not in text and "Exercise 1.1" in text.splitlines()[-1]


ONE_LINE_1_1 = "    return per_dim.sum(dim=-1)"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (" - 0.5 * math.log(2 * math.pi)", "", "constant term -log(2 pi)/2 per dimension is missing"),
        (ONE_LINE_1_1, "    return per_dim.sum(dim=0)", "has shape (4,), expected (32,): you summed over the batch"),
        (ONE_LINE_1_1, "    return per_dim", "has shape (32, 4), expected (32,): sum the per-dimension terms"),
        (ONE_LINE_1_1, "    return per_dim.sum()", "has shape (), expected (32,)"),
        (ONE_LINE_1_1, "    return per_dim.sum(dim=-1, keepdim=True)", "has shape (32, 1), expected (32,)"),
        (ONE_LINE_1_1, "    return per_dim.mean(dim=-1)", "averaged over the dimensions"),
        (" - log_std - ", " - ", "-log(sigma_i) = -log_std_i per dimension is missing"),
        ("z = (x - mu) * torch.exp(-log_std)", "z = (x - mu) * torch.exp(-0.5 * log_std)",
         "sigma^2 = exp(2 log_std), not by sigma"),
        (ONE_LINE_1_1, "    return per_dim.sum(dim=-1).detach()", "carries no gradient"),
        (ONE_LINE_1_1, "    return per_dim.sum(dim=-1).detach().numpy()", "returned a numpy array"),
    ],
)
def test_1_1_catches_wrong_answers(tmp_path, old, new, expected):
    code, text = check("1.1", variant(tmp_path, SOLN_1_1, old, new))
    assert code == 1
    assert expected in fail_reason(text)


# ---------------------------------------------------------------------------------------------
# 1.2 Gaussian policy (the quick part: shapes and log-likelihoods; training is a slow test)
# ---------------------------------------------------------------------------------------------
def test_1_2_solution_passes_the_quick_check():
    code, text = check("1.2", solution=True, quick=True)
    assert code == 0 and "quick" in text


def test_1_2_starter_fails():
    code, text = check("1.2", quick=True)
    assert code == 1 and "mlp" in fail_reason(text) and "NotImplementedError" in fail_reason(text)


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("act = activation if j < len(sizes) - 2 else output_activation", "act = activation",
         "Tanh activations; expected 2"),
        ("return pi.log_prob(act).sum(dim=-1)", "return pi.log_prob(act)", "expected (10,): sum the per-dimension"),
        ("self.log_std = nn.Parameter(torch.full((act_dim,), -0.5))", "self.log_std = torch.full((act_dim,), -0.5)",
         "not learned"),
        ("torch.full((act_dim,), -0.5)", "torch.full((act_dim,), 1.5)", "initial standard deviation is 4.48"),
        ("return Normal(self.mu_net(obs), torch.exp(self.log_std))", "return self.mu_net(obs)",
         "return a torch.distributions object"),
        ("return Normal(self.mu_net(obs), torch.exp(self.log_std))", "return Normal(self.mu_net(obs), self.log_std)",
         "A standard deviation must be positive"),
        ("return Normal(self.mu_net(obs), torch.exp(self.log_std))",
         "return Normal(self.mu_net(obs).detach(), torch.exp(self.log_std))", "get no gradient"),
    ],
)
def test_1_2_catches_wrong_answers(tmp_path, old, new, expected):
    code, text = check("1.2", variant(tmp_path, SOLN_1_2, old, new), quick=True)
    assert code == 1
    assert expected in fail_reason(text)


@pytest.mark.slow
def test_1_2_solution_passes_training_with_ppo():
    code, text = check("1.2", solution=True)
    assert code == 0, text
    assert float(re.search(r"averaged (-?\d+)", text).group(1)) >= checkers.PPO_THRESHOLD


# ---------------------------------------------------------------------------------------------
# 1.3 TD3
# ---------------------------------------------------------------------------------------------
def test_1_3_solution_passes_including_a_short_td3_run():
    code, text = check("1.3", solution=True)
    assert code == 0 and "your TD3 runs" in text


def test_1_3_solution_computes_the_same_target_as_spinups_td3():
    from spinup.algos.pytorch.td3.td3 import compute_q_target

    soln = checkers.reference_module("1.3")
    _, ac_targ, data, _ = checkers.td3_fixture()
    torch.manual_seed(7)
    ours = soln.compute_q_target(data, ac_targ, 0.99, 2.0, 0.2, 0.5)
    torch.manual_seed(7)
    theirs = compute_q_target(data, ac_targ, 0.99, 2.0, 0.2, 0.5)
    torch.testing.assert_close(ours, theirs)


def test_1_3_starter_fails():
    code, text = check("1.3")
    assert code == 1 and "smoothed_target_action" in fail_reason(text)


BACKUP = "q_pi_targ = torch.min(q1_pi_targ, q2_pi_targ)"
NOISE = "epsilon = torch.randn_like(pi_targ) * target_noise"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (BACKUP, "q_pi_targ = torch.max(q1_pi_targ, q2_pi_targ)", "minimum of the two target Q-values, not the max"),
        (BACKUP, "q_pi_targ = q1_pi_targ", "use both target Q-networks"),
        (BACKUP, "q_pi_targ = (q1_pi_targ + q2_pi_targ) / 2", "not their mean"),
        ("return r + gamma * (1 - d) * q_pi_targ", "return r + gamma * q_pi_targ", "multiply the bootstrap term by (1 - d)"),
        ("return r + gamma * (1 - d) * q_pi_targ", "return r + gamma * (1 - d) * q_pi_targ[:, None]",
         "returned shape (64, 64)"),
        ("epsilon = torch.clamp(epsilon, -noise_clip, noise_clip)", "pass", "clip the noise to [-noise_clip, noise_clip]"),
        ("return torch.clamp(pi_targ + epsilon, -act_limit, act_limit)", "return pi_targ + epsilon",
         "clip the smoothed action to [-act_limit, act_limit]"),
        (NOISE, "epsilon = torch.rand_like(pi_targ) * target_noise", "should have mean 0"),
        (NOISE, "epsilon = torch.randn_like(pi_targ) * target_noise**2", "not by its square"),
        (NOISE, "epsilon = torch.randn(1) * target_noise", "same noise to every sample"),
        ("return -q1_pi.mean()", "return q1_pi.mean()", "the sign is wrong"),
        ("q1_pi = ac.q1(o, ac.pi(o))", "q1_pi = ac.q2(o, ac.pi(o))", "uses Q1 only"),
        ("q1_pi = ac.q1(o, ac.pi(o))", "q1_pi = torch.min(ac.q1(o, ac.pi(o)), ac.q2(o, ac.pi(o)))",
         "the minimum of the two belongs to the backup"),
        ("q1_pi = ac.q1(o, ac.pi(o))", "q1_pi = ac.q1(o, data[\"act\"])", "not at the buffer's action"),
        ("q1_pi = ac.q1(o, ac.pi(o))", "q1_pi = ac.q1(o, ac.pi(o).detach())", "gradient with respect to the policy"),
        ("return timer % policy_delay == 0", "return True", "updated after every Q-update"),
    ],
)
def test_1_3_catches_wrong_answers(tmp_path, old, new, expected):
    code, text = check("1.3", variant(tmp_path, SOLN_1_3, old, new), quick=True)
    assert code == 1
    assert expected in fail_reason(text)


def test_1_3_accepts_other_correct_ways_to_write_it(tmp_path):
    path = variant(tmp_path, SOLN_1_3, NOISE, "epsilon = torch.normal(0.0, target_noise, size=pi_targ.shape)")
    assert check("1.3", path, quick=True)[0] == 0
    path = variant(tmp_path, SOLN_1_3, "return timer % policy_delay == 0", "return timer % policy_delay == policy_delay - 1")
    assert check("1.3", path, quick=True)[0] == 0


def test_1_3_a_bug_outside_the_gaps_shows_in_the_short_run(tmp_path):
    path = variant(tmp_path, SOLN_1_3, "loss_q = loss_q1 + loss_q2\n", "loss_q = loss_q1 + loss_q2 + oops\n")
    code, text = check("1.3", path)
    assert code == 1 and "short run of your td3" in fail_reason(text) and "NameError" in fail_reason(text)


# ---------------------------------------------------------------------------------------------
# Problem set 2
# ---------------------------------------------------------------------------------------------
def test_2_1_grid_varies_only_the_value_iterations():
    from spinup.exercises.pytorch.problem_set_2.exercise2_1 import build_grid

    variants = build_grid(seeds=(0, 10)).variants()
    assert len(variants) == 6
    assert sorted({v["train_v_iters"] for v in variants}) == [0, 5, 80]
    assert {v["env_name"] for v in variants} == {"Hopper-v5"}


def test_2_1_is_not_graded_and_says_where_the_solution_is():
    code, text = check("2.1")
    assert code == 0 and "not graded" in text
    assert (EXERCISES / checkers.get_exercise("2.1").solution).is_file()


def test_2_2_the_bug_is_a_broadcast_q_loss_and_the_solution_removes_it():
    from gymnasium.spaces import Box

    buggy = checkers.load_exercise_file(str(EXERCISES / checkers.get_exercise("2.2").starter),
                                        checkers.get_exercise("2.2"))
    fixed = checkers.reference_module("2.2")
    spaces = Box(-np.inf, np.inf, (3,), np.float32), Box(-2.0, 2.0, (1,), np.float32)
    obs, act = torch.zeros(5, 3), torch.zeros(5, 1)
    data = dict(rew=torch.zeros(5), obs2=obs, done=torch.zeros(5))
    assert buggy.compute_q_target(data, buggy.MLPActorCritic(*spaces), 0.99).shape == (5, 5)
    assert fixed.compute_q_target(data, fixed.MLPActorCritic(*spaces), 0.99).shape == (5,)
    assert fixed.MLPActorCritic(*spaces).q(obs, act).shape == (5,)


def test_2_2_exercise_and_solution_differ_only_in_the_q_function_and_the_docstring():
    exercise = (EXERCISES / checkers.get_exercise("2.2").starter).read_text()
    solution = (EXERCISES / checkers.get_exercise("2.2").solution).read_text()
    body = lambda s: s[s.index('"""', 3) + 3:]  # noqa: E731
    changed = [ln for ln in set(body(solution).splitlines()) ^ set(body(exercise).splitlines()) if ln.strip()]
    assert all("squeeze" in ln or "return self.q(" in ln or ln.strip().startswith("#") for ln in changed), changed


@pytest.mark.slow
def test_2_2_quick_check_passes_the_solution_and_fails_the_buggy_copy():
    code, text = check("2.2", solution=True, quick=True)
    assert code == 0, text
    code, text = check("2.2", quick=True)
    assert code == 1 and "the bug is still there" in fail_reason(text)


@pytest.mark.slow
def test_2_2_full_check_passes_the_solution():
    code, text = check("2.2", solution=True)
    assert code == 0, text


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, message",
    [
        (["3.1"], "Unknown exercise '3.1'"),
        (["1.1", "--file", "no/such/file.py"], "There is no file no/such/file.py"),
        (["1.1", "--file", str(SOLN_1_2)], "defines no gaussian_likelihood"),
        (["1.1", "--file", __file__.replace(".py", ".txt")], "There is no file"),
    ],
)
def test_cli_bad_input_exits_2_with_one_sentence(capsys, argv, message):
    assert exercise_main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv", [[], ["1.1", "--file", "x.py", "--solution"], ["1.1", "--bogus"]])
def test_cli_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as e:
        exercise_main(argv)
    assert e.value.code == 2


def test_cli_list_and_where(capsys):
    assert exercise_main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert all(number in listing for number in checkers.EXERCISES)
    assert exercise_main(["1_1", "--where"]) == 0
    assert osp.isfile(capsys.readouterr().out.strip())


def test_cli_through_spinup_run(capsys):
    from spinup.run import main as spinup_main

    with pytest.raises(SystemExit) as e:
        spinup_main(["exercise", "1.1", "--solution"])
    assert e.value.code == 0 and "PASS" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        spinup_main(["exercise", "9.9"])
    assert e.value.code == 2 and "Unknown exercise" in capsys.readouterr().err


def test_cli_python_dash_m_and_a_copy_that_checks_itself(tmp_path):
    starter = subprocess.run([sys.executable, "-m", "spinup.exercises", "1.1"], capture_output=True, text=True)
    assert starter.returncode == 1 and "FAIL" in starter.stdout
    # A student's copy checks itself when run as a script.
    copy = tmp_path / "my_exercise1_1.py"
    copy.write_text(SOLN_1_1.read_text())
    own = subprocess.run([sys.executable, str(copy)], capture_output=True, text=True)
    assert own.returncode == 0 and "PASS" in own.stdout


def test_a_file_that_does_not_import_fails_with_where(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import torch\n\ndef gaussian_likelihood(x, mu, log_std)\n    return x\n")
    code, text = check("1.1", path)
    assert code == 1 and "line 3 of" in fail_reason(text)


RESYNC = ("the algorithm changed: copy its function body (from `def NAME(` to `if __name__`) into the exercise "
          "copies, keeping only the differences this test strips out")


def _algorithm_body(text: str, name: str) -> str:
    return text[text.index(f"def {name}("):text.index('if __name__ == "__main__":')]


def test_exercise_copies_of_td3_and_ddpg_stay_in_step_with_the_algorithms():
    # The copies are meant to read like spinup's own files; when those change, update the copies.
    root = EXERCISES.parent / "algos" / "pytorch"
    td3 = _algorithm_body((root / "td3" / "td3.py").read_text(), "td3")
    closure = td3[td3.index("    # The policy loss: minus Q1"):td3.index("    # One Adam optimiser")]
    td3 = (td3.replace(closure, "").replace("if timer % policy_delay == 0:", "if policy_update_due(timer, policy_delay):")
           .replace("loss_pi = compute_loss_pi(data)", "loss_pi = compute_loss_pi(data, ac)"))
    for path in (EXERCISES / checkers.get_exercise("1.3").starter, SOLN_1_3):
        assert _algorithm_body(path.read_text(), "td3") == td3, f"{path.name}: {RESYNC}"
    ddpg = _algorithm_body((root / "ddpg" / "ddpg.py").read_text(), "ddpg").replace("core.MLPActorCritic", "MLPActorCritic")
    for exercise_file in (checkers.get_exercise("2.2").starter, checkers.get_exercise("2.2").solution):
        assert _algorithm_body((EXERCISES / exercise_file).read_text(), "ddpg") == ddpg, f"{exercise_file}: {RESYNC}"
