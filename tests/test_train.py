"""train.py end to end, in subprocesses: export, resume after SIGKILL,
skipped files, determinism."""

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_python

TINY = ["--preset=tiny", "--batch_size=2", "--crop_size=32",
        "--max_short_side=0", "--warmup_steps=4", "--log_every=2",
        "--validate_every=1000"]


def train_command(data_dir, run_dir, *flags):
  return [sys.executable, os.path.join(REPO, "train.py"),
          f"--data_dir={data_dir}", f"--checkpoint_dir={run_dir}/ckpt",
          f"--export_dir={run_dir}/export", *TINY, *flags]


def train(data_dir, run_dir, *flags):
  env = dict(os.environ, PYTHONPATH=REPO)
  result = subprocess.run(train_command(data_dir, run_dir, *flags),
                          capture_output=True, text=True, env=env,
                          timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  return result.stdout


def last_saved_step(checkpoint_dir):
  """The step of the checkpoint a run would resume from, or None.

  The manager writes a checkpoint's files first and then names it in the
  `checkpoint` state file (atomically): files not named there yet belong to
  a save that a kill interrupted, and do not count.
  """
  try:
    with open(checkpoint_dir / "checkpoint") as f:
      state = f.read()
  except FileNotFoundError:
    return None
  named = re.search(r'^model_checkpoint_path: "ckpt-(\d+)"', state, re.M)
  return int(named.group(1)) if named else None


@pytest.fixture(scope="module")
def photos(tmp_path_factory, photo):
  """Real and generated images, plus a corrupt file and a too-small one."""
  folder = tmp_path_factory.mktemp("photos")
  (folder / "nested").mkdir()
  Image.fromarray(photo[:96, :96]).save(folder / "real.png")
  Image.fromarray(photo[200:264, 100:180]).save(folder / "nested" / "b.jpg")
  gradient = np.linspace(0, 255, 64 * 48 * 3).reshape(48, 64, 3)
  Image.fromarray(gradient.astype(np.uint8)).save(folder / "gradient.webp")
  Image.fromarray(photo[:20, :20]).save(folder / "small.png")
  (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
  return folder


ROUND_TRIP = """
import sys
import numpy as np
import tensorflow as tf
import tensorflow_compression
model = tf.saved_model.load(sys.argv[1])
image = np.random.default_rng(0).integers(0, 256, (40, 24, 3), np.uint8)
decoded = model.signatures["decompress"](
    **model.signatures["compress"](image=tf.constant(image)))["image"]
assert decoded.shape == (40, 24, 3), decoded.shape
"""


def test_a_short_run_skips_bad_files_and_exports_a_working_model(
    photos, tmp_path):
  flagfile = tmp_path / "run.flags"
  flagfile.write_text("# zoomed-out crops\n--max_zoom_out=1.5\n")
  stdout = train(photos, tmp_path, "--steps=8", f"--flagfile={flagfile}",
                 f"--val_dir={photos}", "--validate_every=4")
  assert ("3 training images, 1 unreadable and 1 smaller than 32 px "
          "skipped") in stdout
  with open(tmp_path / "export" / "training.json") as f:
    command = json.load(f)["command"]
  assert "--max_zoom_out=1.5" in command
  assert not any(flag.startswith("--flagfile") for flag in command)
  run_python(ROUND_TRIP, str(tmp_path / "export"))

  # Validation (the 20 px photo is too small for LPIPS and left out of it)
  # keeps the checkpoint of the lowest LPIPS.
  scores = [float(v) for v in re.findall(r"lpips_alexnet (\S+),", stdout)]
  assert len(scores) == 2 and all(0 < s < 1.5 for s in scores)
  with open(tmp_path / "ckpt" / "best" / "best.json") as f:
    best = json.load(f)
  assert best["lpips_alexnet"] == pytest.approx(min(scores), abs=1e-4)
  assert best["step"] == 4 * (1 + scores.index(min(scores)))
  assert last_saved_step(tmp_path / "ckpt" / "best") == best["step"]


def test_set_changes_any_config_field_of_the_exported_model(photos,
                                                            tmp_path):
  train(photos, tmp_path, "--steps=2", '--set=normalization="instance"',
        "--set=generator_filters=[8,8,4,4,4]")
  with open(tmp_path / "export" / "model.json") as f:
    config = json.load(f)["config"]
  assert config["normalization"] == "instance"
  assert config["generator_filters"] == [8, 8, 4, 4, 4]
  run_python(ROUND_TRIP, str(tmp_path / "export"))


def test_init_from_warm_starts_a_run_with_another_config(photos, tmp_path):
  train(photos, tmp_path / "first", "--steps=4")
  for source in ("ckpt", "export"):
    stdout = train(photos, tmp_path / f"from_{source}", "--steps=4",
                   f"--init_from={tmp_path / 'first' / source}",
                   "--lambda_perceptual=1", "--perceptual_network=alexnet")
    assert "warm-started from" in stdout
    assert re.search(r"step 4: .*perceptual 0\.[0-9]*[1-9]", stdout)


def test_a_killed_run_resumes_from_its_last_checkpoint(photos, tmp_path):
  command = train_command(photos, tmp_path, "--steps=300",
                          "--checkpoint_every=5")
  env = dict(os.environ, PYTHONPATH=REPO)
  process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  deadline = time.time() + 600
  while last_saved_step(tmp_path / "ckpt") is None:
    assert process.poll() is None and time.time() < deadline
    time.sleep(0.1)
  process.send_signal(signal.SIGKILL)
  process.wait()
  saved = last_saved_step(tmp_path / "ckpt")
  assert 5 <= saved < 300

  stdout = train(photos, tmp_path, "--steps=300", "--checkpoint_every=5")
  resumed = int(re.search(r"resumed from .* at step (\d+)", stdout).group(1))
  assert resumed == saved
  assert "checkpoint at step 300" in stdout
  assert "exported model" in stdout


def test_a_fixed_seed_repeats_the_losses_exactly(photos, tmp_path):
  def losses(run):
    stdout = train(photos, tmp_path / run, "--steps=8", "--seed=3")
    return [re.sub(r" \(.* s/step\)", "", line)
            for line in stdout.splitlines() if line.startswith("step ")]
  first = losses("a")
  assert len(first) == 4
  assert first == losses("b")


def test_bad_flags_fail_before_any_work(photos, tmp_path):
  env = dict(os.environ, PYTHONPATH=REPO)
  for flags, message in (
      (["--crop_size=30"], "multiple of 16"),
      (["--steps=0"], "--steps"),
      (["--latent_channels=0"], "latent_channels"),
      (["--mode=sc"], "need label maps"),
      ([f"--labels_dir={photos}"], "needs --num_classes"),
      (["--mode=sc", "--standin_labels=4",
        "--synthesis_box_fraction=0.9"], "sum to <= 1"),
      (["--set=width=3"], "no config field 'width'"),
      (["--set=normalization=instance"], "not JSON"),
      (['--set=normalization="batch"'], "normalization must be one of")):
    result = subprocess.run(train_command(photos, tmp_path, *flags),
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert not os.path.exists(tmp_path / "ckpt")


SC_ROUND_TRIP = """
import sys
import numpy as np
from tfgc import codec
model = codec.load(sys.argv[1])
image = np.random.default_rng(0).integers(0, 256, (40, 24, 3), np.uint8)
labels = np.random.default_rng(1).integers(0, 3, (40, 24), np.uint8)
given = None if sys.argv[2] == "standin" else labels
data = model.compress(image, given, synthesize=[1])
assert model.decompress(data).shape == (40, 24, 3)
print(codec.info(data)["label_map_bytes"])
"""


def test_sc_trains_on_paired_label_maps_and_exports_a_working_model(
    photos, tmp_path):
  labels = tmp_path / "labels"
  (labels / "nested").mkdir(parents=True)
  rng = np.random.default_rng(0)
  Image.fromarray(rng.integers(0, 3, (96, 96), np.uint8)).save(
      labels / "real_labelIds.png")
  Image.fromarray(rng.integers(0, 3, (64, 80), np.uint8)).save(
      labels / "nested" / "b.png")
  Image.fromarray(np.full((48, 64), 7, np.uint8)).save(
      labels / "gradient.png")  # Ids out of range: skipped.
  stdout = train(photos, tmp_path / "run", "--steps=6", "--mode=sc",
                 f"--labels_dir={labels}", "--num_classes=3",
                 "--discriminator_labels")
  assert "2 images with label maps, 1 without a usable one skipped" in stdout
  run_python(SC_ROUND_TRIP, str(tmp_path / "run" / "export"), "given")


def test_sc_trains_on_stand_in_labels(photos, tmp_path):
  train(photos, tmp_path, "--steps=6", "--mode=sc", "--standin_labels=3",
        f"--val_dir={photos}", "--validate_every=3")
  result = run_python(SC_ROUND_TRIP, str(tmp_path / "export"), "standin")
  assert int(result.stdout) > 0
