"""`tfgc train` end to end: export, resume after SIGKILL, skipped files,
determinism across processes, warm starts, SC label sources, flags checked
before TensorFlow loads. Runs that test the process (its exit, its kill,
its recorded command, a second process repeating the first) are
subprocesses; the others call `tfgc.cli.train.main` in this process and
spare a TensorFlow start."""

import contextlib
import io
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
from tfgc import codec, config
from tfgc.cli import train as train_cli

# The base recipe: no LPIPS nor weight average in every step.
TINY = ["--preset=tiny", "--recipe=base", "--batch_size=2", "--crop_size=32",
        "--max_short_side=0", "--log_every=2", "--validate_every=1000"]


def train_flags(data_dir, run_dir, *flags, export=True):
  """`tfgc train`'s flags for a tiny run in `run_dir`, exporting to
  RUN/ckpt/export (the default) if `export`, else nothing (`--export_dir=`:
  a few seconds that most tests do not need)."""
  return ([f"--data_dir={data_dir}", f"--checkpoint_dir={run_dir}/ckpt"]
          + ["--export_dir="] * (not export) + TINY + list(flags))


def train_command(data_dir, run_dir, *flags, export=True):
  return [sys.executable, "-m", "tfgc", "train",
          *train_flags(data_dir, run_dir, *flags, export=export)]


def train(data_dir, run_dir, *flags, export=True):
  env = dict(os.environ, PYTHONPATH=REPO)
  result = subprocess.run(train_command(data_dir, run_dir, *flags,
                                        export=export),
                          capture_output=True, text=True, env=env,
                          timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  return result.stdout


def main_here(argv):
  """`tfgc train ARGV` in this process: (exit status, stdout). The SIGTERM
  handler is put back afterwards."""
  sigterm = signal.getsignal(signal.SIGTERM)
  output = io.StringIO()
  try:
    with contextlib.redirect_stdout(output):
      status = train_cli.main(argv)
  finally:
    signal.signal(signal.SIGTERM, sigterm)
  return status, output.getvalue()


# Runs the script sys.argv[1] with the arguments after it, then says
# whether TensorFlow was imported.
RUN_SCRIPT = """
import runpy, sys
sys.argv = sys.argv[1:]
try:
  runpy.run_path(sys.argv[0], run_name="__main__")
finally:
  print("TensorFlow imported:", "tensorflow" in sys.modules)
"""


def train_here(data_dir, run_dir, *flags, export=True):
  """Like `train`, in this process: its stdout."""
  status, stdout = main_here(
      train_flags(data_dir, run_dir, *flags, export=export))
  assert status == 0
  return stdout


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


def validations(checkpoint_dir):
  """The figures of each validation of the run, from its validation.jsonl:
  dicts of "step", "psnr", "dists", ..."""
  with open(checkpoint_dir / "validation.jsonl") as f:
    return [json.loads(line) for line in f]


def assert_round_trips(export_dir):
  """The export's compress and decompress signatures round-trip an odd
  size (in this process: train.py's export, not process isolation, is
  what these tests check; test_export.py runs exports in fresh ones)."""
  import tensorflow as tf
  import tensorflow_compression  # noqa: F401 (the range coding ops)
  model = tf.saved_model.load(str(export_dir))
  image = np.random.default_rng(0).integers(0, 256, (40, 24, 3), np.uint8)
  decoded = model.signatures["decompress"](
      **model.signatures["compress"](image=tf.constant(image)))["image"]
  assert decoded.shape == (40, 24, 3), decoded.shape


# Config fields without a flag of their own, set in the short run (and in
# the runs warm-started from it, which need its architecture).
SET = ('--set=normalization="instance"', "--set=generator_filters=[8,8,4,4,4]")


@pytest.fixture(scope="module")
def short_run(photos, tmp_path_factory):
  """A tiny run of 8 steps with validation, `SET` and an export: (its
  directory, its stdout)."""
  run_dir = tmp_path_factory.mktemp("short_run")
  flagfile = run_dir / "run.flags"
  flagfile.write_text("# zoomed-out crops\n--max_zoom_out=1.5\n")
  stdout = train(photos, run_dir, "--steps=8", f"--flagfile={flagfile}",
                 f"--val_dir={photos}", "--validate_every=4", *SET)
  return run_dir, stdout


def test_a_short_run_skips_bad_files_and_exports_a_working_model(photos,
                                                                short_run):
  run_dir, stdout = short_run
  assert ("3 training images, 1 unreadable and 1 smaller than 32 px "
          "skipped") in stdout
  with open(run_dir / "ckpt" / "export" / "training.json") as f:
    command = json.load(f)["command"]
  assert "--max_zoom_out=1.5" in command
  assert not any(flag.startswith("--flagfile") for flag in command)
  assert command[:2] == ["tfgc", "train"]
  assert f"--data_dir=.../{photos.name}" in command
  assert not any(str(run_dir) in flag or REPO in flag for flag in command)
  assert_round_trips(run_dir / "ckpt" / "export")

  # Validation (the 20 px photo is too small for LPIPS and left out of it)
  # keeps the checkpoint of the lowest DISTS within 0.5 dB of the best
  # PSNR.
  assert stdout.count("validation on") == 2  # The line users read.
  figures = validations(run_dir / "ckpt")
  assert [f["step"] for f in figures] == [4, 8]
  assert all(0 < f["lpips_alexnet"] < 1.5 for f in figures)
  assert all(0 < f["dists"] < 1 for f in figures)
  floor = max(f["psnr"] for f in figures) - 0.5
  chosen = min((f for f in figures if f["psnr"] >= floor),
               key=lambda f: f["dists"])
  with open(run_dir / "ckpt" / "best" / "best.json") as f:
    best = json.load(f)
  assert best["step"] == chosen["step"]
  assert best["dists"] == chosen["dists"]
  assert last_saved_step(run_dir / "ckpt" / "best") == best["step"]


def test_set_changes_any_config_field_of_the_exported_model(short_run):
  run_dir, _ = short_run
  with open(run_dir / "ckpt" / "export" / "model.json") as f:
    config = json.load(f)["config"]
  assert config["normalization"] == "instance"
  assert config["generator_filters"] == [8, 8, 4, 4, 4]


def test_init_from_warm_starts_a_run_with_another_config(photos, short_run,
                                                        tmp_path):
  run_dir, _ = short_run
  for source in ("ckpt", "ckpt/export"):
    stdout = train_here(photos, tmp_path / source.replace("/", "_"),
                        "--steps=2", f"--init_from={run_dir / source}", *SET,
                        "--lambda_perceptual=1",
                        "--perceptual_network=alexnet", export=False)
    assert "warm-started from" in stdout
    assert ("recipe base with --lambda_perceptual, --perceptual_network: "
            "lambda_mse 10, ") in stdout
    assert re.search(r"step 2/2: .*perceptual 0\.[0-9]*[1-9]", stdout)


def test_recipe_flags_given_change_the_named_recipe():
  """Also in flag files: scripts/*.flags name the default models' stages."""
  def recipe(*flags):
    train_cli.parse(["--data_dir=x", "--checkpoint_dir=y", *flags])
    try:
      return train_cli.build_recipe()
    finally:
      train_cli.FLAGS.unparse_flags()
  scripts = os.path.join(REPO, "scripts")
  assert recipe() == config.RECIPES["adversarial"]
  assert recipe(f"--flagfile={scripts}/warmup.flags") == config.RECIPES[
      "warmup"]
  assert recipe(f"--flagfile={scripts}/adversarial.flags", "--gan_weight=0",
                "--lr=1e-4") == config.RECIPES["adversarial"].replace(
                    gan_weight=0.0, learning_rate=1e-4)
  assert recipe("--recipe=rd", "--beta=6").beta == 6


def test_a_killed_run_resumes_from_its_last_checkpoint(photos, tmp_path):
  command = train_command(photos, tmp_path, "--steps=40",
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
  assert 5 <= saved < 40

  # Checkpoints only at the end this time: the resume is what is tested
  # (in this process: the killed one was the fresh process).
  stdout = train_here(photos, tmp_path, "--steps=40",
                      "--checkpoint_every=1000")
  resumed = int(re.search(r"resumed from .* at step (\d+)", stdout).group(1))
  assert resumed == saved
  assert "checkpoint at step 40" in stdout
  assert f"to {tmp_path}/ckpt/export" in stdout
  assert (tmp_path / "ckpt" / "export" / "saved_model.pb").exists()


def test_a_fixed_seed_repeats_the_losses_exactly(photos, tmp_path):
  """In a fresh process and in this one, after whatever ran here before."""
  def losses(run_with, run):
    stdout = run_with(photos, tmp_path / run, "--steps=4", "--seed=3",
                      "--log_every=1", export=False)
    return [re.sub(r" \(.* s/step.*\)$", "", line)
            for line in stdout.splitlines() if line.startswith("step ")]
  first = losses(train, "a")
  assert len(first) == 4
  assert first == losses(train_here, "b")


def test_bad_flags_fail_before_any_work(photos, tmp_path, capsys):
  for flags, message in (
      (["--crop_size=30"], "multiple of 16"),
      (["--steps=0"], "--steps"),
      (["--latent_channels=0"], "latent_channels"),
      (["--mode=sc"], "mode 'sc' needs label maps"),
      (["--mode=sc", "--num_classes=3"], "give --labels_dir"),
      ([f"--labels_dir={photos}"], "--labels_dir needs --num_classes"),
      (["--mode=sc", "--labeller=standin"],
       "standin labeller needs num_classes"),
      (["--mode=sc", "--labeller=person"], "--labeller=person --images="),
      (["--mode=sc", "--labeller=standin", "--num_classes=4",
        "--synthesis_box_fraction=0.9"], "sum to <= 1"),
      (["--set=width=3"], "no config field 'width'"),
      (["--set=normalization=instance"], "not JSON"),
      (['--set=normalization="batch"'], "normalization must be one of")):
    status, _ = main_here(train_flags(photos, tmp_path, *flags))
    assert status == 1
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "ckpt")
  # One in a process of its own, through the train.py of a checkout: the
  # exit status, the one stderr line, and TensorFlow never loaded.
  result = run_python(RUN_SCRIPT, os.path.join(REPO, "train.py"),
                      *train_flags(photos, tmp_path, "--crop_size=30"),
                      check=False)
  assert result.returncode == 1
  assert result.stderr == ("tfgc train: --crop_size must be a multiple of "
                           "16\n")
  assert result.stdout == "TensorFlow imported: False\n"


def sc_round_trip(export_dir, labels_given):
  """Compresses with class 1 synthesised and decodes through the codec;
  returns the label map's bytes in the file."""
  model = codec.load(str(export_dir))
  image = np.random.default_rng(0).integers(0, 256, (40, 24, 3), np.uint8)
  labels = np.random.default_rng(1).integers(0, 3, (40, 24), np.uint8)
  data = model.compress(image, labels if labels_given else None,
                        synthesize=[1])
  assert model.decompress(data).shape == (40, 24, 3)
  return codec.info(data)["label_map_bytes"]


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
  stdout = train_here(photos, tmp_path / "run", "--steps=6", "--mode=sc",
                      f"--labels_dir={labels}", "--num_classes=3",
                      "--discriminator_labels")
  assert "2 images with label maps, 1 without a usable one skipped" in stdout
  sc_round_trip(tmp_path / "run" / "ckpt" / "export", labels_given=True)


def test_sc_trains_on_stand_in_labels(photos, tmp_path):
  train_here(photos, tmp_path, "--steps=6", "--mode=sc",
             "--labeller=standin", "--num_classes=3", f"--val_dir={photos}",
             "--validate_every=3")
  assert sc_round_trip(tmp_path / "ckpt" / "export", labels_given=False) > 0
  # Validation also decodes with class 0 synthesised: fewer bits.
  figures = validations(tmp_path / "ckpt")
  assert [f["step"] for f in figures] == [3, 6]
  for values in figures:
    assert 0 < values["synth0_bpp_estimate"] < values["bpp_estimate"]
    assert 0 < values["synth0_lpips_alexnet"] < 1.5
    assert 0 < values["synth0_psnr_kept"] < 60
    # The painting, on its own pixels and in the whole image's DISTS.
    assert 0 < values["synth0_psnr_painted"] < 60
    assert 0 < values["synth0_dists"] < 1
