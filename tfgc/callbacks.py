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
from tfgc.lpips import measures
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


class LearningRate(tf.keras.callbacks.Callback):
  """Sets both optimizers' step size from `recipe` (`learning_rate_at`)
  when training starts and at the recipe's drop step. A checkpoint holds
  the step size it was saved with and restoring it brings that back: a
  run resumed with another --learning_rate takes the new one from here."""

  def __init__(self, recipe):
    super().__init__()
    self.recipe = recipe
    self.start = 0
    self.rate = None

  def _set(self, step):
    rate = self.recipe.learning_rate_at(step)
    if rate == self.rate:
      return
    optimizers = (self.model.generator_optimizer,
                  self.model.discriminator_optimizer)
    restored = float(optimizers[0].learning_rate.numpy())
    for optimizer in optimizers:
      optimizer.learning_rate.assign(rate)
    if self.rate is not None or not np.isclose(restored, rate):
      print(f"step {step}: learning rate {rate:g} (was {restored:g})")
    self.rate = rate

  def on_train_begin(self, logs=None):
    self.start = global_step(self.model)
    self._set(self.start)

  def on_train_batch_begin(self, batch, logs=None):
    # One epoch per session: the batch index counts the session's steps.
    self._set(self.start + batch)


class TrainingLog(tf.keras.callbacks.Callback):
  """Every `every` steps: metrics to TensorBoard and one line to stdout,
  `step 2000/100000: g_loss 0.31, ... (0.35 s/step, ETA 9h32m)`.

  Each value is the mean over the steps since the previous line (the
  model's trackers are reset after each; Keras would otherwise average
  over the whole session), and so is the time per step. The ETA is the
  steps left to `steps` at that time, plus the session's mean time between
  steps (checkpoints, validation) per step. The line keeps logs of
  background runs (no progress bar) readable.
  """

  def __init__(self, writer, every, steps):
    super().__init__()
    self.writer = writer
    self.every = every
    self.steps = steps
    self.start = None  # (time, step) of the session's start.
    self.stepping = 0.0  # Seconds inside steps this session.
    self.window = [0.0, 0]  # Seconds and steps since the previous line.
    self.began = None

  def on_train_begin(self, logs=None):
    self.start = (time.time(), global_step(self.model))

  def on_train_batch_begin(self, batch, logs=None):
    self.began = time.time()

  def on_train_batch_end(self, batch, logs=None):
    seconds = time.time() - self.began
    self.stepping += seconds
    self.window = [self.window[0] + seconds, self.window[1] + 1]
    step = global_step(self.model)
    if step % self.every or not logs:
      return
    with self.writer.as_default(step=step):
      for name, value in logs.items():
        tf.summary.scalar(f"train/{name}", value)
    per_step = self.window[0] / self.window[1]
    self.window = [0.0, 0]
    between = ((time.time() - self.start[0] - self.stepping)
               / (step - self.start[1]))
    left = self.steps - step
    eta = f", ETA {duration(left * (per_step + between))}" if left > 0 else ""
    print(f"step {step}/{self.steps}: " + ", ".join(
        f"{name} {float(value):.4g}" for name, value in logs.items())
          + f" ({per_step:.2f} s/step{eta})", flush=True)
    self.model.reset_metrics()


def duration(seconds):
  """`seconds` for people: "9h32m", "4m05s" or "12s"."""
  minutes, seconds = divmod(round(seconds), 60)
  hours, minutes = divmod(minutes, 60)
  if hours:
    return f"{hours}h{minutes:02d}m"
  return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _write_atomically(path, text):
  """A kill leaves the old file or the new one, never half of one."""
  with open(path + ".tmp", "w") as f:
    f.write(text)
  os.replace(path + ".tmp", path)


def _append_line(path, text):
  """Appends `text` as one line of `path`, in one write."""
  with open(path, "a") as f:
    f.write(text + "\n")


class BestCheckpoint:
  """Keeps the checkpoint that judges outside the loss prefer: the lowest
  validation DISTS among the checkpoints whose validation PSNR is within
  `psnr_window` dB of the run's best (structure first, then texture).

  LPIPS-AlexNet, which the default recipe trains on, does not choose.
  The best PSNR only rises, so a checkpoint that leaves the window never
  returns, and one that another beats on both PSNR and DISTS can never be
  chosen: the others (at most a handful) are kept in `directory` as
  `ckpt-STEP`, its `checkpoint` state file names the chosen one, and
  `best.json` records it (step and figures) with `best_psnr` and the kept
  `candidates`. A resumed run reads them, so "best" spans every session
  of the run; a record of the earlier LPIPS rule is started afresh. GAN
  training is noisy from checkpoint to checkpoint; the best on held-out
  photos is the one to release.
  """

  def __init__(self, checkpoint, directory, psnr_window=0.5):
    self.checkpoint = checkpoint
    self.directory = directory
    os.makedirs(directory, exist_ok=True)
    self.psnr_window = psnr_window
    self.record = os.path.join(directory, "best.json")
    self.best_psnr = -float("inf")
    self.candidates = []  # Dicts of step and figures.
    if os.path.exists(self.record):
      with open(self.record) as f:
        record = json.load(f)
      if "candidates" in record:
        self.best_psnr = record["best_psnr"]
        self.candidates = record["candidates"]

  def offer(self, step, figures):
    """Considers the model at `step` with its validation `figures` (needs
    "psnr" and "dists"); saves it if it may yet be chosen."""
    entry = dict(step=step, **figures)
    self.best_psnr = max(self.best_psnr, entry["psnr"])
    floor = self.best_psnr - self.psnr_window
    dominates = lambda a, b: (  # noqa: E731
        a["psnr"] >= b["psnr"] and a["dists"] <= b["dists"])
    kept = [c for c in self.candidates
            if c["psnr"] >= floor and not dominates(entry, c)]
    if entry["psnr"] >= floor and not any(dominates(c, entry) for c in kept):
      self.checkpoint.write(os.path.join(self.directory, f"ckpt-{step}"))
      kept.append(entry)
    previous = self.chosen()
    self.candidates = sorted(kept, key=lambda c: c["step"])
    chosen = self.chosen()
    self._remove_unkept()
    _write_atomically(os.path.join(self.directory, "checkpoint"),
                      f'model_checkpoint_path: "ckpt-{chosen["step"]}"\n')
    _write_atomically(self.record, json.dumps(dict(
        chosen, best_psnr=self.best_psnr, psnr_window=self.psnr_window,
        candidates=self.candidates), indent=2))
    if chosen != previous:
      print(f"step {step}: best checkpoint is now step {chosen['step']} "
            f"(lowest DISTS within {self.psnr_window} dB of the best PSNR), "
            f"in {self.directory}", flush=True)

  def chosen(self):
    """The candidate of the lowest DISTS, or None before any."""
    return min(self.candidates, key=lambda c: c["dists"], default=None)

  def _remove_unkept(self):
    steps = {c["step"] for c in self.candidates}
    for path in tf.io.gfile.glob(os.path.join(self.directory, "ckpt-*")):
      step = os.path.basename(path).split(".")[0][len("ckpt-"):]
      if int(step) not in steps:
        tf.io.gfile.remove(path)


class FullImageValidation(tf.keras.callbacks.Callback):
  """Decodes whole validation images (not crops) every `every` steps.

  Writes mean PSNR, MS-SSIM, DISTS and LPIPS-AlexNet (with `dists` and
  `lpips`) and estimated bpp, and the first images as "original |
  decoded" pairs, to TensorBoard. Whole images are where normalisation and
  padding problems show. With a `BestCheckpoint` (and `dists`) the model
  its rule prefers is kept. With a `history` file each validation also
  appends its figures there as one JSON line, `{"step": N, "psnr": ...,
  ...}` (the names of the printed line, floats), so a resumed run
  continues the record.

  The figures are those of the default decode (r = 1 with the realism
  dial); a model with the dial is also decoded at r = 0, its MSE end:
  `psnr_r0` and `dists_r0`. They do not choose the best checkpoint.

  SC examples (everything preserved, comparable with GC) are decoded a
  second time with class 0 synthesised (the person labeller's background,
  the stand-in's darkest region): `synth0_bpp_estimate`,
  `synth0_lpips_alexnet` and `synth0_dists` (the whole image's),
  `synth0_psnr_kept` (the PSNR of the other classes' pixels, on the
  images that have some) and `synth0_psnr_painted` (of class 0's pixels,
  on the images that keep some other class: how well the painting
  continues the photo's colours and light, which no loss term measures
  there) show what synthesis saves and what it costs. They do not choose
  the best checkpoint.

  Args:
    examples: list of uint8 [H, W, 3] arrays, or of dicts of "image" and
      the model's other inputs (labels, synthesis mask), unbatched.
    lpips: a `tfgc.lpips.LPIPS("alexnet")` layer, or None (not measured);
      images it cannot measure (`tfgc.lpips.measures`) are left out of
      its mean.
    dists: a `tfgc.dists.DISTS` layer, or None (not measured).
    best: a `BestCheckpoint`, or None; needs `dists`.
    history: path of the JSON-lines file to append to, or None.
  """

  def __init__(self, examples, writer, every, max_images_shown=3,
               lpips=None, dists=None, best=None, history=None):
    super().__init__()
    self.examples = examples
    self.writer = writer
    self.every = every
    self.max_images_shown = max_images_shown
    self.lpips = lpips
    self.dists = dists
    self.best = best if dists is not None else None
    self.history = history
    if history:
      os.makedirs(os.path.dirname(history), exist_ok=True)

  def on_train_batch_end(self, batch, logs=None):
    step = global_step(self.model)
    if step % self.every == 0:
      self.validate(step)

  def validate(self, step):
    model = self.model.inference_model()
    psnr, ms_ssim, lpips, dists, bpp = [], [], [], [], []
    synth_bpp, synth_lpips, synth_dists = [], [], []
    synth_kept, synth_painted = [], []
    psnr_r0, dists_r0 = [], []
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
        ms_ssim.append(metrics.ms_ssim(image, decoded))
        scored = (self.lpips is not None
                  and measures(self.lpips.net, image.shape))
        if scored:
          lpips.append(float(self.lpips(x, x_hat)[0]))
        if self.dists is not None:
          dists.append(float(self.dists(x, x_hat)[0]))
        bpp.append(float(reconstruction.bits_per_pixel[0]))
        if i < self.max_images_shown:
          tf.summary.image(f"val/original|decoded/{i}",
                           tf.concat([x, x_hat], axis=2))
        if model.realism_modulation is not None:
          # G alone again, on the latents E gave: the MSE end of the dial.
          labels = inputs.get("labels") if isinstance(inputs, dict) else None
          faithful = tf.clip_by_value(model.synthesis(
              reconstruction.latents, tf.shape(x)[1:3], labels,
              realism=tf.zeros([1])), 0.0, 1.0)
          psnr_r0.append(metrics.psnr(image, to_uint8(faithful[0]).numpy()))
          if self.dists is not None:
            dists_r0.append(float(self.dists(x, faithful)[0]))
        if "synthesis_mask" in inputs:
          painted = example["labels"] == 0
          synthesised = model(dict(inputs, synthesis_mask=tf.constant(
              painted[None])), training=False)
          synth_bpp.append(float(synthesised.bits_per_pixel[0]))
          synth_x_hat = tf.clip_by_value(synthesised.images, 0.0, 1.0)
          if scored:
            synth_lpips.append(float(self.lpips(x, synth_x_hat)[0]))
          if self.dists is not None:
            synth_dists.append(float(self.dists(x, synth_x_hat)[0]))
          synth_decoded = to_uint8(synth_x_hat[0]).numpy()
          kept = metrics.psnr(image, synth_decoded, ~painted)
          if kept is not None:
            synth_kept.append(kept)
            if painted.any():
              synth_painted.append(metrics.psnr(image, synth_decoded,
                                                painted))
      figures = dict(psnr=np.mean(psnr))
      figures["ms_ssim"] = np.mean(ms_ssim)
      if dists:
        figures["dists"] = np.mean(dists)
      if lpips:
        figures["lpips_alexnet"] = np.mean(lpips)
      figures["bpp_estimate"] = np.mean(bpp)
      if psnr_r0:
        figures["psnr_r0"] = np.mean(psnr_r0)
      if dists_r0:
        figures["dists_r0"] = np.mean(dists_r0)
      if synth_bpp:
        figures["synth0_bpp_estimate"] = np.mean(synth_bpp)
      if synth_lpips:
        figures["synth0_lpips_alexnet"] = np.mean(synth_lpips)
      if synth_dists:
        figures["synth0_dists"] = np.mean(synth_dists)
      if synth_kept:
        figures["synth0_psnr_kept"] = np.mean(synth_kept)
      if synth_painted:
        figures["synth0_psnr_painted"] = np.mean(synth_painted)
      figures = {name: float(value) for name, value in figures.items()}
      for name, value in figures.items():
        tf.summary.scalar(f"val/{name}", value)
    self.writer.flush()
    print(f"\nstep {step}: validation on {len(self.examples)} whole images: "
          + ", ".join(f"{name} {value:.4f}" for name, value in figures.items()),
          flush=True)
    if self.history:
      _append_line(self.history, json.dumps(dict(step=step, **figures)))
    if self.best is not None:
      self.best.offer(step, figures)
