"""Data-parallel training: MirroredStrategy over 2 logical CPUs, and
MultiWorkerMirroredStrategy with 2 worker processes on 127.0.0.1."""

import json
import os
import re
import socket
import subprocess
import sys

from conftest import REPO, run_python
from test_train import photos, train, train_command  # noqa: F401 (fixture)

REPLICAS_STAY_IDENTICAL = """
import numpy as np
import tensorflow as tf
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration()] * 2)
from tfgc.config import preset
from tfgc.model import GenerativeCompressionModel
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
  model = GenerativeCompressionModel(preset("tiny").replace(
      weight_average=0.9))
  model.compile()
images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), np.uint8)
model.fit(tf.data.Dataset.from_tensors(images).repeat(), epochs=1,
          steps_per_epoch=4, verbose=0)
variables = model.trainable_variables + model.weight_average.averages
assert all(len(v.values) == 2 for v in variables)
assert all(np.array_equal(v.values[0].numpy(), v.values[1].numpy())
           for v in variables)
assert model.generator_optimizer.iterations.numpy() == 4
assert model.discriminator_optimizer.iterations.numpy() == 4
assert model.weight_average.updates.numpy() == 4
"""


def test_replicas_and_their_weight_averages_stay_identical_in_training():
  run_python(REPLICAS_STAY_IDENTICAL)


def test_train_py_runs_mirrored_over_two_logical_cpus(photos, tmp_path):  # noqa: F811
  stdout = train(photos, tmp_path, "--steps=4", "--strategy=mirrored",
                 "--cpu_devices=2")
  assert "checkpoint at step 4" in stdout
  assert "exported model" in stdout


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
