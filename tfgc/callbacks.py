"""Keras callbacks of a training run: checkpoints, TensorBoard, validation.

The global step is E/G's optimizer step counter, which is checkpointed, so
logs and checkpoints continue where a resumed run left off.
"""

import json
import os
import time

import numpy as np
import tensorflow as tf

from tfgc import metrics
from tfgc.lpips import MIN_SIDE
from tfgc.networks import to_float, to_uint8


def global_step(model):
  return int(model.generator_optimizer.iterations.numpy())


class PeriodicCheckpoint(tf.keras.callbacks.Callback):
  """Saves a `tf.train.CheckpointManager` checkpoint every `every` steps."""

  def __init__(self, manager, every):
    super().__init__()
    self.manager = manager
    self.every = every

  def on_train_batch_end(self, batch, logs=None):
    step = global_step(self.model)
    if step % self.every == 0:
      self.manager.save(checkpoint_number=step)


class TrainingLog(tf.keras.callbacks.Callback):
  """Every `every` steps: metrics to TensorBoard and one line to stdout.

  The line keeps logs of background runs (no progress bar) readable.
  """

  def __init__(self, writer, every):
    super().__init__()
    self.writer = writer
    self.every = every
    self.start = None

  def on_train_begin(self, logs=None):
    self.start = (time.time(), global_step(self.model))

  def on_train_batch_end(self, batch, logs=None):
    step = global_step(self.model)
    if step % self.every or not logs:
      return
    with self.writer.as_default(step=step):
      for name, value in logs.items():
        tf.summary.scalar(f"train/{name}", value)
    seconds = (time.time() - self.start[0]) / max(1, step - self.start[1])
    print(f"step {step}: " + ", ".join(
        f"{name} {float(value):.4g}" for name, value in logs.items())
          + f" ({seconds:.2f} s/step)", flush=True)


class BestCheckpoint:
  """Keeps the checkpoint of the lowest validation LPIPS seen by a run.

  One checkpoint in `directory` (its own `checkpoint` state file) and
  `best.json` (step and figures), which a resumed run reads, so "best"
  spans every session of the run. GAN training is noisy from checkpoint to
  checkpoint; the best on held-out photos is the one to release.
  """

  def __init__(self, checkpoint, directory):
    self.manager = tf.train.CheckpointManager(checkpoint, directory,
                                              max_to_keep=1)
    self.record = os.path.join(directory, "best.json")
    self.best = float("inf")
    if os.path.exists(self.record):
      with open(self.record) as f:
        self.best = json.load(f)["lpips_alexnet"]

  def offer(self, step, figures):
    """Saves the model if `figures["lpips_alexnet"]` is the lowest yet."""
    if not figures["lpips_alexnet"] < self.best:
      return
    self.manager.save(checkpoint_number=step)
    with open(self.record, "w") as f:
      json.dump(dict(step=step, **figures), f, indent=2)
    self.best = figures["lpips_alexnet"]
    print(f"step {step}: best validation LPIPS so far, saved in "
          f"{self.manager.directory}", flush=True)


class FullImageValidation(tf.keras.callbacks.Callback):
  """Decodes whole validation images (not crops) every `every` steps.

  Writes mean PSNR, MS-SSIM, LPIPS-AlexNet (with `lpips`) and estimated
  bpp, and the first images as "original | decoded" pairs, to TensorBoard.
  Whole images are where normalisation and padding problems show. With a
  `BestCheckpoint` (and `lpips`) the model of the lowest LPIPS is kept.

  SC examples (everything preserved, comparable with GC) are decoded a
  second time with class 0 synthesised (the person labeller's background,
  the stand-in's darkest region): `synth0_bpp_estimate`,
  `synth0_lpips_alexnet` (the whole image's) and `synth0_psnr_kept` (the
  PSNR of the other classes' pixels, on the images that have some) show
  what synthesis saves and what it costs. They do not choose the best
  checkpoint.

  Args:
    examples: list of uint8 [H, W, 3] arrays, or of dicts of "image" and
      the model's other inputs (labels, synthesis mask), unbatched.
    lpips: a `tfgc.lpips.LPIPS("alexnet")` layer, or None (not measured);
      images smaller than it takes (`MIN_SIDE`) are left out of its mean.
  """

  def __init__(self, examples, writer, every, max_images_shown=3,
               lpips=None, best=None):
    super().__init__()
    self.examples = examples
    self.writer = writer
    self.every = every
    self.max_images_shown = max_images_shown
    self.lpips = lpips
    self.best = best if lpips is not None else None

  def on_train_batch_end(self, batch, logs=None):
    step = global_step(self.model)
    if step % self.every == 0:
      self.validate(step)

  def validate(self, step):
    model = self.model.inference_model()
    psnr, ms_ssim, lpips, bpp = [], [], [], []
    synth_bpp, synth_lpips, synth_kept = [], [], []
    with self.writer.as_default(step=step):
      for i, example in enumerate(self.examples):
        if isinstance(example, dict):
          image = example["image"]
          inputs = {k: tf.constant(v[None]) for k, v in example.items()}
        else:
          image, inputs = example, example[None]
        x = to_float(image[None])
        reconstruction = model(inputs, training=False)
        x_hat = tf.clip_by_value(reconstruction.images, 0.0, 1.0)
        decoded = to_uint8(x_hat[0]).numpy()
        psnr.append(metrics.psnr(image, decoded))
        if min(image.shape[:2]) >= 176:  # MS-SSIM needs 5 scales of 11x11.
          ms_ssim.append(float(tf.image.ssim_multiscale(x, x_hat, 1.0)[0]))
        scored = (self.lpips is not None
                  and min(image.shape[:2]) >= MIN_SIDE[self.lpips.net])
        if scored:
          lpips.append(float(self.lpips(x, x_hat)[0]))
        bpp.append(float(reconstruction.bits_per_pixel[0]))
        if i < self.max_images_shown:
          tf.summary.image(f"val/original|decoded/{i}",
                           tf.concat([x, x_hat], axis=2))
        if "synthesis_mask" in inputs:
          painted = example["labels"] == 0
          synthesised = model(dict(inputs, synthesis_mask=tf.constant(
              painted[None])), training=False)
          synth_bpp.append(float(synthesised.bits_per_pixel[0]))
          synth_x_hat = tf.clip_by_value(synthesised.images, 0.0, 1.0)
          if scored:
            synth_lpips.append(float(self.lpips(x, synth_x_hat)[0]))
          kept = metrics.psnr(image, to_uint8(synth_x_hat[0]).numpy(),
                              ~painted)
          if kept is not None:
            synth_kept.append(kept)
      figures = dict(psnr=np.mean(psnr))
      if ms_ssim:
        figures["ms_ssim"] = np.mean(ms_ssim)
      if lpips:
        figures["lpips_alexnet"] = np.mean(lpips)
      figures["bpp_estimate"] = np.mean(bpp)
      if synth_bpp:
        figures["synth0_bpp_estimate"] = np.mean(synth_bpp)
      if synth_lpips:
        figures["synth0_lpips_alexnet"] = np.mean(synth_lpips)
      if synth_kept:
        figures["synth0_psnr_kept"] = np.mean(synth_kept)
      for name, value in figures.items():
        tf.summary.scalar(f"val/{name}", value)
    self.writer.flush()
    print(f"\nstep {step}: validation on {len(self.examples)} whole images: "
          + ", ".join(f"{name} {value:.4f}" for name, value in figures.items()),
          flush=True)
    if self.best is not None:
      self.best.offer(step, {k: float(v) for k, v in figures.items()})
