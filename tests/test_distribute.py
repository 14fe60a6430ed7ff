"""Data-parallel training: MirroredStrategy over 2 logical CPUs, and
MultiWorkerMirroredStrategy with 2 worker processes on 127.0.0.1."""

import json
import os
import re
import socket
import subprocess

from conftest import REPO, run_python
from test_train import photos, train_command  # noqa: F401 (fixture)

REPLICAS_STAY_IDENTICAL = """
import sys
import numpy as np
from tfgc import training
from tfgc.config import Recipe, preset
trained = training.train(
    preset("tiny"),
    training.RunOptions(data_dir=sys.argv[1], checkpoint_dir=sys.argv[2],
                        export_dir=sys.argv[3], steps=4, batch_size=4,
                        crop_size=32, max_short_side=0, log_every=2,
                        strategy="mirrored", cpu_devices=2),
    Recipe(weight_average=0.9))
model = trained.model
variables = model.trainable_variables + model.weight_average.averages
assert all(len(v.values) == 2 for v in variables)
assert all(np.array_equal(v.values[0].numpy(), v.values[1].numpy())
           for v in variables)
assert model.generator_optimizer.iterations.numpy() == 4
assert model.discriminator_optimizer.iterations.numpy() == 4
assert model.weight_average.updates.numpy() == 4
assert trained.step == 4 and trained.model_id is not None
"""


def test_mirrored_training_over_two_logical_cpus_keeps_replicas_identical(
    photos, tmp_path):  # noqa: F811
  """tfgc.training with MirroredStrategy: both replicas' weights and
  weight averages equal after training, checkpoint and export."""
  run_python(REPLICAS_STAY_IDENTICAL, str(photos), str(tmp_path / "ckpt"),
             str(tmp_path / "export"))
  assert (tmp_path / "export" / "saved_model.pb").exists()


def free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_two_workers_train_in_step_and_end_with_the_same_weights(
    photos, tmp_path):  # noqa: F811
  workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
  processes = []
  for index in range(2):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CONFIG=json.dumps(dict(
        cluster=dict(worker=workers), task=dict(type="worker", index=index))))
    processes.append(subprocess.Popen(
        train_command(photos, tmp_path, "--steps=4",
                      "--strategy=multi_worker"),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
  outputs = [p.communicate(timeout=900) for p in processes]
  for process, (_, stderr) in zip(processes, outputs):
    assert process.returncode == 0, stderr[-3000:]
  digests = [re.search(r"weights digest (\w+)", stdout).group(1)
             for stdout, _ in outputs]
  assert digests[0] == digests[1]
  assert "exported model" in outputs[0][0]
  assert "exported model" not in outputs[1][0]
  assert os.path.exists(tmp_path / "ckpt" / ".worker_1")
