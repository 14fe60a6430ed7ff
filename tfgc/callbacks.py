"""Keras callbacks of a training run: checkpoints, TensorBoard, validation.

The global step is E/G's optimizer step counter, which is checkpointed, so
logs and checkpoints continue where a resumed run left off.
"""

import time

import numpy as np
import tensorflow as tf


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


class FullImageValidation(tf.keras.callbacks.Callback):
  """Decodes whole validation images (not crops) every `every` steps.

  Writes mean PSNR, MS-SSIM and estimated bpp, and the first images as
  "original | decoded" pairs, to TensorBoard. Whole images are where
  normalisation and padding problems show.

  Args:
    examples: list of uint8 [H, W, 3] arrays, or of dicts of "image" and
      the model's other inputs (labels, synthesis mask), unbatched.
  """

  def __init__(self, examples, writer, every, max_images_shown=3):
    super().__init__()
    self.examples = examples
    self.writer = writer
    self.every = every
    self.max_images_shown = max_images_shown

  def on_train_batch_end(self, batch, logs=None):
    step = global_step(self.model)
    if step % self.every == 0:
      self.validate(step)

  def validate(self, step):
    psnr, ms_ssim, bpp = [], [], []
    with self.writer.as_default(step=step):
      for i, example in enumerate(self.examples):
        if isinstance(example, dict):
          image = example["image"]
          inputs = {k: tf.constant(v[None]) for k, v in example.items()}
        else:
          image, inputs = example, example[None]
        x = tf.cast(image[None], tf.float32) / 255.0
        reconstruction = self.model(inputs, training=False)
        x_hat = tf.clip_by_value(reconstruction.images, 0.0, 1.0)
        psnr.append(float(tf.image.psnr(x, x_hat, 1.0)[0]))
        if min(image.shape[:2]) >= 176:  # MS-SSIM needs 5 scales of 11x11.
          ms_ssim.append(float(tf.image.ssim_multiscale(x, x_hat, 1.0)[0]))
        bpp.append(float(reconstruction.bits_per_pixel[0]))
        if i < self.max_images_shown:
          tf.summary.image(f"val/original|decoded/{i}",
                           tf.concat([x, x_hat], axis=2))
      tf.summary.scalar("val/psnr", np.mean(psnr))
      if ms_ssim:
        tf.summary.scalar("val/ms_ssim", np.mean(ms_ssim))
      tf.summary.scalar("val/bpp_estimate", np.mean(bpp))
    self.writer.flush()
    print(f"\nstep {step}: validation on {len(self.examples)} whole images: "
          f"PSNR {np.mean(psnr):.2f} dB, MS-SSIM "
          f"{np.mean(ms_ssim) if ms_ssim else float('nan'):.4f}, "
          f"bpp (estimate) {np.mean(bpp):.4f}", flush=True)
