"""Saved models of both frameworks keep loading, and keep being written the same way.

``tests/fixtures/saved_models`` holds files written by an earlier version of the savers: two
PyTorch runs (``pyt_save/model.pt``) and two JAX runs (``jax_save/model.npz``), on CartPole-v1
and Pendulum-v1, with the deterministic action each policy took for one observation; and the
records those savers made of a set of spaces and of constructor arguments. These tests load
the files with today's code and compare what today's code writes with what was written then.
"""

import json
import os
import shutil

import numpy as np
import pytest
import torch
from gymnasium import spaces

from spinup.utils import serialization_utils as su
from spinup.utils.test_policy import load_policy_and_env

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "saved_models")
with open(os.path.join(FIXTURES, "expected.json")) as f:
    EXPECTED = json.load(f)

# The spaces the fixtures' records were made from, by the names expected.json uses.
SPACES = {
    "box_f32_inf": spaces.Box(-np.inf, np.inf, (3,), np.float32),
    "box_f32_mixed": spaces.Box(np.array([-1.5, -np.inf, 0.1], np.float32), np.array([2.0, np.inf, 1e30], np.float32)),
    "box_f64": spaces.Box(-1.0, 1.0, (2,), np.float64),
    "box_uint8_image": spaces.Box(0, 255, (2, 3, 4), np.uint8),
    "box_bool": spaces.Box(0, 1, (2, 2), np.bool_),
    "box_scalar": spaces.Box(-1.0, 1.0, (), np.float32),
    "discrete": spaces.Discrete(5),
    "discrete_start": spaces.Discrete(3, start=-1),
}


def _kwargs():
    import jax

    return dict(hidden_sizes=(4, (2, 3)), activation=torch.nn.Tanh, fn=jax.nn.relu, n=3, x=1.5, s="a", none=None,
                lst=[1, (2,)])


def _same_space(a, b):
    assert type(a) is type(b)
    if isinstance(a, spaces.Box):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.low, b.low)
        np.testing.assert_array_equal(a.high, b.high)
        assert a.low.dtype == b.low.dtype and a.high.dtype == b.high.dtype
    else:
        assert (a.n, a.start) == (b.n, b.start)


def _same_plain(a, b):
    """Equal nested data, tensors compared by dtype and value."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            _same_plain(a[k], b[k])
    else:
        assert type(a) is type(b) and a == b


def _run_copy(tmp_path, name):
    dst = tmp_path / name
    shutil.copytree(os.path.join(FIXTURES, name), dst)
    return str(dst)


@pytest.mark.parametrize("name", ["pytorch_cartpole", "pytorch_pendulum", "jax_cartpole", "jax_pendulum"])
def test_runs_saved_by_an_earlier_version_load_and_act_as_they_did(tmp_path, name):
    if name.startswith("jax"):
        pytest.importorskip("jax")
        pytest.importorskip("flax")
    want = EXPECTED[name]
    env, get_action = load_policy_and_env(_run_copy(tmp_path, name), deterministic=True)
    assert env.spec.id == want["env_id"]
    act = np.asarray(get_action(np.asarray(want["obs"], np.float32)))
    if isinstance(env.action_space, spaces.Box):  # the loader clips to the bounds, as training does
        np.testing.assert_allclose(act, np.clip(want["action"], -2, 2), rtol=1e-6)
    else:
        assert int(act) == want["action"]


@pytest.mark.parametrize("name", ["pytorch_cartpole", "pytorch_pendulum"])
def test_a_pytorch_record_is_written_as_before(name):
    from spinup.utils.envs import make_env_by_id

    old = su.safe_torch_load(os.path.join(FIXTURES, name, "pyt_save", "model.pt"))
    env = make_env_by_id(old["env_id"])
    module = su.rebuild_model(old)
    new = su.model_record(module, env, su.rebuild_kwargs(old["ac_kwargs"]))
    _same_plain(new, old)


@pytest.mark.parametrize("name", ["jax_cartpole", "jax_pendulum"])
def test_a_jax_record_is_written_as_before(name):
    pytest.importorskip("flax")
    from spinup.utils import jax_saver
    from spinup.utils.envs import make_env_by_id

    path = os.path.join(FIXTURES, name, "jax_save", "model.npz")
    with np.load(path, allow_pickle=False) as data:
        old = json.loads(str(data[jax_saver.RECORD_KEY]))
    module, record = jax_saver.load_model(path)
    env = make_env_by_id(record["env_id"])
    new = jax_saver.model_record(module, env, su.rebuild_kwargs(record["ac_kwargs"]))
    assert json.loads(json.dumps(new)) == old


@pytest.mark.parametrize("case", sorted(SPACES))
def test_spaces_are_written_and_read_as_before_in_both_forms(case):
    space = SPACES[case]
    old_json = EXPECTED["spaces_json"][case]
    old_torch = su.safe_torch_load(os.path.join(FIXTURES, "spaces_torch.pt"))[case]
    # written as before: the JSON form (a JAX record) and the tensor form (a PyTorch record)
    assert json.loads(json.dumps(su.space_to_dict(space, as_json=True))) == old_json
    _same_plain(su.space_to_dict(space), old_torch)
    # and both old forms read back to the space they came from
    _same_space(su.dict_to_space(old_json), space)
    _same_space(su.dict_to_space(old_torch), space)


def test_constructor_arguments_are_encoded_as_before_in_both_forms():
    pytest.importorskip("jax")
    old_torch = su.safe_torch_load(os.path.join(FIXTURES, "kwargs_torch.pt"))
    assert su.encode_kwargs(_kwargs()) == old_torch
    assert json.loads(json.dumps(su.encode_kwargs(_kwargs(), as_json=True))) == EXPECTED["kwargs_json"]
    # a value JSON cannot hold is named in the JSON form, and kept as it is in the tensor form
    t = torch.zeros(2)
    assert su.encode_kwargs(dict(t=t))["t"] is t
    assert su.encode_kwargs(dict(t=t), as_json=True)["t"] == repr(t)
