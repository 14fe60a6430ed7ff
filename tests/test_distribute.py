"""Data-parallel training: MirroredStrategy over 2 logical CPUs, and
MultiWorkerMirroredStrategy with 2 worker processes on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys

from conftest import REPO, run_python

# A 4-step tiny run of tfgc.training; argv: photos, checkpoint folder,
# export folder, strategy, logical CPU devices, weight average decay.
TRAIN_TINY = """
import sys
from tfgc import training
from tfgc.config import Recipe, preset
trained = training.train(
    preset("tiny"),
    training.RunOptions(data_dir=sys.argv[1], checkpoint_dir=sys.argv[2],
                        export_dir=sys.argv[3], steps=4, batch_size=4,
                        crop_size=32, max_short_side=0, log_every=2,
                        strategy=sys.argv[4], cpu_devices=int(sys.argv[5])),
    Recipe(weight_average=float(sys.argv[6])))
"""

REPLICAS_STAY_IDENTICAL = TRAIN_TINY + """
import numpy as np
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

# argv 7: where the worker writes its weights digest and model id.
WORKER = TRAIN_TINY + """
import json
with open(sys.argv[7], "w") as f:
  json.dump(dict(weights_digest=trained.weights_digest,
                 model_id=trained.model_id), f)
"""


def test_mirrored_training_over_two_logical_cpus_keeps_replicas_identical(
    photos, tmp_path):
  """tfgc.training with MirroredStrategy: both replicas' weights and
  weight averages equal after training, checkpoint and export."""
  run_python(REPLICAS_STAY_IDENTICAL, str(photos), str(tmp_path / "ckpt"),
             str(tmp_path / "export"), "mirrored", "2", "0.9")
  assert (tmp_path / "export" / "saved_model.pb").exists()


def free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_two_workers_train_in_step_and_end_with_the_same_weights(
    photos, tmp_path):
  """Two processes of one MultiWorkerMirroredStrategy cluster (TF_CONFIG),
  run at once: the same weights at the end, exported by the chief only."""
  workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
  processes = []
  for index in range(2):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2",
               TF_CONFIG=json.dumps(dict(cluster=dict(worker=workers),
                                         task=dict(type="worker",
                                                   index=index))))
    with open(tmp_path / f"worker{index}.log", "w") as log:
      processes.append(subprocess.Popen(
          [sys.executable, "-c", WORKER, str(photos), str(tmp_path / "ckpt"),
           str(tmp_path / "export"), "multi_worker", "0", "0",
           str(tmp_path / f"worker{index}.json")],
          env=env, stdout=log, stderr=subprocess.STDOUT))
  for index, process in enumerate(processes):
    assert process.wait(timeout=900) == 0, (
        tmp_path / f"worker{index}.log").read_text()[-3000:]
  chief, other = (json.loads((tmp_path / f"worker{i}.json").read_text())
                  for i in range(2))
  assert chief["weights_digest"] == other["weights_digest"]
  assert chief["model_id"] is not None and other["model_id"] is None
  assert (tmp_path / "export" / "saved_model.pb").exists()
  with open(tmp_path / "export" / "model.json") as f:
    assert json.load(f)["model_id"] == chief["model_id"]
  assert os.path.exists(tmp_path / "ckpt" / ".worker_1")
