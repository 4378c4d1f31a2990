"""Logger: progress.txt and config.json round trips, statistics, saved models."""

import json
import os

import numpy as np
import pandas as pd
import pytest
import torch
from gymnasium import spaces

from spinup.algos.pytorch.ppo.core import MLPActorCritic
from spinup.utils.logx import EpochLogger, Logger
from spinup.utils.serialization_utils import rebuild_model, safe_torch_load
from spinup.utils.checks import UserError


def test_progress_txt_round_trip_and_flush(tmp_path):
    logger = EpochLogger(output_dir=str(tmp_path), exp_name="x")
    for epoch in range(3):
        logger.store(EpRet=[1.0 * epoch, 3.0 * epoch])
        logger.store(EpRet=2.0 * epoch)
        logger.log_tabular("Epoch", epoch)
        logger.log_tabular("EpRet", with_min_and_max=True)
        logger.log_tabular("Const", 7)
        logger.dump_tabular()
        # each row is on disk as soon as the epoch ends
        rows = pd.read_table(tmp_path / "progress.txt")
        assert len(rows) == epoch + 1
    assert list(rows.columns) == ["Epoch", "AverageEpRet", "StdEpRet", "MaxEpRet", "MinEpRet", "Const"]
    np.testing.assert_allclose(rows["AverageEpRet"], [0, 2, 4])
    np.testing.assert_allclose(rows["StdEpRet"], [0, np.std([1, 3, 2]), np.std([2, 6, 4])])
    np.testing.assert_allclose(rows["MaxEpRet"], [0, 3, 6])
    np.testing.assert_allclose(rows["MinEpRet"], [0, 1, 2])


def test_average_only_and_get_stats(tmp_path):
    logger = EpochLogger(output_dir=str(tmp_path))
    logger.store(LossPi=1.0)
    logger.store(LossPi=3.0)
    assert logger.get_stats("LossPi") == (2.0, 1.0)
    logger.log_tabular("LossPi", average_only=True)
    assert logger.log_current_row == {"LossPi": 2.0}


def test_new_column_after_first_row_is_refused(tmp_path):
    logger = Logger(output_dir=str(tmp_path))
    logger.log_tabular("a", 1)
    logger.dump_tabular()
    with pytest.raises(KeyError, match="first epoch"):
        logger.log_tabular("b", 2)


def test_config_json_holds_everything_and_never_crashes(tmp_path):
    logger = Logger(output_dir=str(tmp_path), exp_name="cfg")
    config = dict(env_fn=lambda: None, act=torch.nn.ReLU, hid=(64, 64), gamma=0.99, arr=np.arange(3),
                  nested=dict(obj=object(), f=1.5))
    logger.save_config(config)
    assert not (tmp_path / "config.json").exists()  # written with the first output, not before
    logger.log_tabular("Epoch", 0)
    logger.dump_tabular()
    with open(tmp_path / "config.json") as f:
        saved = json.load(f)
    assert saved["exp_name"] == "cfg"
    assert saved["gamma"] == 0.99 and saved["hid"] == [64, 64] and saved["arr"] == [0, 1, 2]
    assert saved["act"] == "torch.nn.modules.activation.ReLU"
    assert "lambda" in saved["env_fn"]
    assert saved["nested"]["obj"] == "<builtins.object object>"  # no memory address


class _EnvStub:
    observation_space = spaces.Box(-1, 1, (4,))
    action_space = spaces.Discrete(3)
    spec = None
    unwrapped = None


def test_saved_model_rebuilds_with_weights_only(tmp_path):
    logger = Logger(output_dir=str(tmp_path))
    ac = MLPActorCritic(_EnvStub.observation_space, _EnvStub.action_space, hidden_sizes=(8,), activation=torch.nn.ReLU)
    logger.setup_pytorch_saver(ac, env=_EnvStub(), ac_kwargs=dict(hidden_sizes=(8,), activation=torch.nn.ReLU))
    logger.save_state({}, None)
    path = tmp_path / "pyt_save" / "model.pt"
    assert path.exists()
    assert not [p for p in os.listdir(tmp_path / "pyt_save") if p.startswith(".tmp")]  # renamed into place
    record = torch.load(path, weights_only=True)
    ac2 = rebuild_model(record)
    assert isinstance(ac2.pi.logits_net[1], torch.nn.ReLU)
    x = torch.randn(5, 4)
    torch.testing.assert_close(ac2.v(x), ac.v(x))


def test_truncated_model_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"a": torch.zeros(1000)}, path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(UserError, match="damaged"):
        safe_torch_load(str(path))


def test_empty_loss_column_is_not_divergence(tmp_path):
    """An epoch with no update yet logs NaN for its losses: that is "no data", not a fault."""
    logger = EpochLogger(output_dir=str(tmp_path))
    logger.log_tabular("LossPi", average_only=True)
    logger.dump_tabular()  # no NumericalError
    logger.store(LossPi=float("nan"))
    logger.log_tabular("LossPi", average_only=True)
    from spinup.utils.checks import NumericalError

    with pytest.raises(NumericalError, match="LossPi is nan"):
        logger.dump_tabular()
