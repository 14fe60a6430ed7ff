"""tfgc.callbacks: BestCheckpoint (the lowest validation DISTS within 0.5
dB of the best validation PSNR, across runs), the validation history and
the training log."""

import json
import types

import numpy as np
import pytest
import tensorflow as tf

from tfgc import callbacks
from tfgc.networks import to_float


def best_of(directory, weight):
  checkpoint = tf.train.Checkpoint(weight=tf.Variable(weight))
  return checkpoint, callbacks.BestCheckpoint(checkpoint, str(directory))


def record(directory):
  with open(directory / "best.json") as f:
    return json.load(f)


def saved_steps(directory):
  return sorted(int(p.split("ckpt-")[1].split(".")[0])
                for p in tf.io.gfile.glob(str(directory / "ckpt-*.index")))


def test_the_lowest_dists_within_half_a_decibel_of_the_best_psnr(tmp_path):
  _, best = best_of(tmp_path, 1.0)
  best.offer(10, dict(psnr=24.0, dists=0.20, lpips_alexnet=0.30))
  # Lower DISTS, 0.4 dB below the best PSNR: chosen.
  best.offer(20, dict(psnr=23.6, dists=0.18, lpips_alexnet=0.35))
  assert record(tmp_path)["step"] == 20
  # Lower DISTS still, but 0.8 dB below: not a candidate, never saved.
  best.offer(30, dict(psnr=23.2, dists=0.10, lpips_alexnet=0.10))
  assert record(tmp_path)["step"] == 20
  assert saved_steps(tmp_path) == [10, 20]
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-20")


def test_a_higher_psnr_moves_the_window_and_drops_what_falls_out(tmp_path):
  _, best = best_of(tmp_path, 1.0)
  best.offer(10, dict(psnr=24.0, dists=0.20))
  best.offer(20, dict(psnr=23.7, dists=0.18))
  best.offer(30, dict(psnr=24.4, dists=0.19))  # Step 20 falls out.
  assert record(tmp_path)["step"] == 30
  assert record(tmp_path)["best_psnr"] == 24.4
  # Step 10 is within the window but step 30 beats it on both.
  assert saved_steps(tmp_path) == [30]


def test_a_resumed_run_continues_the_record_and_restores_the_chosen(
    tmp_path):
  _, best = best_of(tmp_path, 1.0)
  best.offer(10, dict(psnr=24.0, dists=0.20))
  # A resumed run (new objects) compares with what the first one kept.
  _, resumed = best_of(tmp_path, 2.0)
  resumed.offer(20, dict(psnr=24.1, dists=0.21))
  assert record(tmp_path)["step"] == 10
  assert [c["step"] for c in record(tmp_path)["candidates"]] == [10, 20]

  checkpoint, resumed = best_of(tmp_path, 3.0)
  resumed.offer(30, dict(psnr=23.9, dists=0.15))
  assert record(tmp_path)["step"] == 30
  checkpoint.weight.assign(0.0)
  checkpoint.restore(tf.train.latest_checkpoint(str(tmp_path)))
  assert float(checkpoint.weight) == 3.0


def test_a_record_of_the_lpips_rule_is_started_afresh(tmp_path):
  old, _ = best_of(tmp_path, 1.0)
  tf.train.CheckpointManager(old, str(tmp_path), 1).save(7)
  (tmp_path / "best.json").write_text(
      json.dumps(dict(step=7, psnr=30.0, lpips_alexnet=0.1)))
  _, best = best_of(tmp_path, 2.0)
  best.offer(10, dict(psnr=20.0, dists=0.3))
  assert record(tmp_path)["step"] == 10
  assert saved_steps(tmp_path) == [10]


class _Tracked(tf.keras.Model):
  """The parts of the model TrainingLog reads: a step counter and a
  tracker."""

  def __init__(self):
    super().__init__()
    self.generator_optimizer = tf.keras.optimizers.Adam()
    self.mse = tf.keras.metrics.Mean(name="mse")

  @property
  def metrics(self):
    return [self.mse]


def logged_lines(tmp_path, monkeypatch, capsys, values, pause_after=None):
  """TrainingLog's lines, every 2 of 6 steps, of steps that each take 1 s
  (a fake clock) and track an mse of `values`, with 10 s outside the steps
  after step `pause_after` (a validation, say)."""
  clock = [0.0]
  monkeypatch.setattr(callbacks.time, "time", lambda: clock[0])
  model = _Tracked()
  log = callbacks.TrainingLog(tf.summary.create_file_writer(str(tmp_path)),
                              every=2, steps=6)
  log.set_model(model)
  log.on_train_begin()
  for step, value in enumerate(values, 1):
    log.on_train_batch_begin(step)
    clock[0] += 1.0
    model.generator_optimizer.iterations.assign(step)
    model.mse.update_state(value)
    log.on_train_batch_end(step, {"mse": model.mse.result()})
    clock[0] += 10.0 if step == pause_after else 0.0
  return capsys.readouterr().out.splitlines()


def test_each_logged_value_is_the_mean_since_the_previous_line(
    tmp_path, monkeypatch, capsys):
  lines = logged_lines(tmp_path, monkeypatch, capsys, [4.0, 2.0, 10.0, 10.0])
  assert lines[0].startswith("step 2/6: mse 3 ")
  assert lines[1].startswith("step 4/6: mse 10 ")


def test_the_eta_counts_the_recent_steps_and_the_time_between_steps(
    tmp_path, monkeypatch, capsys):
  """After 10 s outside 4 steps of 1 s, the 2 steps left take 2 * 3.5 s."""
  lines = logged_lines(tmp_path, monkeypatch, capsys, [1.0] * 6,
                       pause_after=2)
  assert [line.split(" (")[1] for line in lines] == [
      "1.00 s/step, ETA 4s)", "1.00 s/step, ETA 7s)", "1.00 s/step)"]
  assert callbacks.duration(9 * 3600 + 32 * 60 + 10) == "9h32m"
  assert callbacks.duration(245.4) == "4m05s"


class _HalfBright:
  """The part of the model FullImageValidation reads: an inference model
  (without the realism dial) that decodes every image at half its
  brightness, at 0.5 bpp."""

  realism_modulation = None

  def inference_model(self):
    return self

  def __call__(self, images, training):
    return types.SimpleNamespace(images=to_float(images) / 2,
                                 bits_per_pixel=tf.constant([0.5]))


def test_each_validation_appends_its_figures_as_one_json_line(tmp_path):
  """A new callback on the same file, as in a resumed run, continues it."""
  images = [np.full((16, 16, 3), 200, np.uint8),
            np.full((16, 24, 3), 100, np.uint8)]
  history = tmp_path / "run" / "validation.jsonl"
  writer = tf.summary.create_file_writer(str(tmp_path / "logs"))
  for step in (10, 20):
    validation = callbacks.FullImageValidation(images, writer, every=10,
                                               history=str(history))
    validation.set_model(_HalfBright())
    validation.validate(step)
  lines = [json.loads(line) for line in history.read_text().splitlines()]
  assert [line["step"] for line in lines] == [10, 20]
  assert set(lines[0]) == {"step", "psnr", "ms_ssim", "bpp_estimate"}
  # Errors of 100 and 50 grey levels.
  assert lines[0]["psnr"] == pytest.approx(
      10 * np.log10(255 ** 2 / np.array([100 ** 2, 50 ** 2])).mean())
  assert lines[0]["bpp_estimate"] == 0.5
  assert lines[1] == dict(lines[0], step=20)
