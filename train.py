"""Trains a tfgc model and exports it as a SavedModel.

  python train.py --data_dir=PHOTOS --preset=small --steps=50000
      --checkpoint_dir=RUN/ckpt --log_dir=RUN/logs --export_dir=RUN/export

Running the same command again resumes from the last checkpoint in
--checkpoint_dir (step counter, both optimizers, all networks).
--log_dir (absl's flag) sets the TensorBoard folder (default
CHECKPOINT_DIR/logs).

Selective compression (SC) trains on images with label maps:

  python train.py --mode=sc --data_dir=PHOTOS --labels_dir=LABELS
      --num_classes=34 ...          # label maps paired by file name
  python train.py --mode=sc --data_dir=PHOTOS --standin_labels=8 ...
      # no label maps: 8 colour/position regions per image from the
      # stand-in labeller, which is NOT semantic segmentation
"""

import dataclasses
import json
import logging
import os
import signal
import sys

from absl import app, flags
import numpy as np
import tensorflow as tf

from tfgc import callbacks, config as config_lib, data, export
from tfgc.lpips import LPIPS, WeightsError
from tfgc.model import PRECISIONS, GenerativeCompressionModel

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", None, "Folder of training images, searched "
                    "recursively (PNG, JPEG, WebP, TIFF, BMP).")
flags.DEFINE_string("val_dir", None, "Folder of validation images; decoded "
                    "whole (not cropped) every --validate_every steps.")
flags.DEFINE_string("preset", "small", "Model preset: tiny, small or paper.")
flags.DEFINE_enum("mode", "gc", ["gc", "sc"],
                  "gc: global generative compression; sc: selective (needs "
                  "--labels_dir or --standin_labels).")
flags.DEFINE_string("labels_dir", None, "Folder of label maps (one class id "
                    "per pixel, single-channel PNG) paired with the images "
                    "by name: DATA_DIR/sub/NAME.ext -> LABELS_DIR/sub/"
                    "NAME.png, NAME_labelIds.png, or for Cityscapes' "
                    "NAME_leftImg8bit, NAME_gtFine_labelIds.png. Images "
                    "without one are skipped and counted.")
flags.DEFINE_integer("num_classes", None, "Classes of --labels_dir's maps "
                     "(ids 0..N-1; Cityscapes labelIds: 34).")
flags.DEFINE_integer("standin_labels", 0, "Instead of --labels_dir: label "
                     "each image with this many colour/position regions "
                     "(tfgc/labeller.py). NOT semantic segmentation: a "
                     "stand-in to train and try SC on any photos.")
flags.DEFINE_bool("discriminator_labels", None, "D also sees the label map "
                  "(the paper's D+; needs label maps, in GC too).")
flags.DEFINE_float("synthesis_instance_fraction", 0.4, "SC: share of "
                   "training crops whose synthesis mask is one whole class.")
flags.DEFINE_float("synthesis_box_fraction", 0.4, "SC: share of training "
                   "crops whose synthesis mask is a random box (the rest "
                   "synthesise nothing).")
flags.DEFINE_integer("steps", 100000, "Total training steps (E/G updates).")
flags.DEFINE_integer("batch_size", 8, "Global batch size.")
flags.DEFINE_integer("crop_size", 128, "Side of the random square crops; "
                     "smaller images are skipped (and counted).")
flags.DEFINE_float("max_zoom_out", 1.0, "Crops cover crop_size*s source "
                   "pixels, s uniform in [1, this], downscaled to crop_size: "
                   "training at several scales of the same photos.")
flags.DEFINE_integer("max_short_side", 768, "Downscale images whose shorter "
                     "side is longer than this before cropping (0: never).")
flags.DEFINE_float("lr", None, "Adam learning rate (default: preset's).")
flags.DEFINE_integer("latent_channels", None, "C, latent channels "
                     "(default: preset's); sets the rate bound C*log2(L)/256.")
flags.DEFINE_enum("entropy_model", None, ["factorized", "hyperprior"],
                  "Entropy model (default: preset's).")
flags.DEFINE_float("lambda_mse", None, "Weight of MSE (default: preset's).")
flags.DEFINE_float("lambda_feature_matching", None,
                   "Weight of D feature matching (default: preset's).")
flags.DEFINE_float("lambda_perceptual", None,
                   "Weight of the perceptual term (default: preset's).")
flags.DEFINE_enum("perceptual_network", None, ["vgg16", "alexnet"],
                  "LPIPS backbone of the perceptual term (default: "
                  "preset's; alexnet is ~15x cheaper on a CPU).")
flags.DEFINE_float("gan_weight", None, "Weight of the LSGAN generator term "
                   "after warm-up (default: preset's).")
flags.DEFINE_float("beta", None, "β, weight of the rate in bpp (default: "
                   "preset's; 0 = rate set by C and L only).")
flags.DEFINE_float("weight_average", None, "Decay of the moving average "
                   "of the E/G weights that validation and export use, e.g. "
                   "0.999; 0 = none (default: preset's).")
flags.DEFINE_integer("warmup_steps", None, "Steps of distortion + rate only "
                     "before the adversarial terms (default: preset's).")
flags.DEFINE_string("checkpoint_dir", None, "Checkpoints; an existing run "
                    "here is resumed.")
flags.DEFINE_integer("checkpoint_every", 500, "Steps between checkpoints.")
flags.DEFINE_string("export_dir", None, "Where the trained SavedModel goes.")
# --log_dir (TensorBoard logs; default CHECKPOINT_DIR/logs) is absl's own.
flags.DEFINE_integer("log_every", 100, "Steps between TensorBoard scalars.")
flags.DEFINE_integer("validate_every", 1000, "Steps between validations.")
flags.DEFINE_string("init_from", None, "Warm-start the networks from a "
                    "checkpoint directory or an exported model.")
flags.DEFINE_integer("seed", None, "Random seed; also makes ops "
                     "deterministic (slower), so runs repeat exactly.")
flags.DEFINE_enum("strategy", "default",
                  ["default", "mirrored", "multi_worker", "tpu"],
                  "tf.distribute strategy (multi_worker reads TF_CONFIG).")
flags.DEFINE_integer("cpu_devices", 0, "Split the CPU into this many logical "
                     "devices (with --strategy=mirrored: data parallelism "
                     "on one machine without GPUs, e.g. to test a setup).")
flags.DEFINE_enum("precision", "float32", list(PRECISIONS),
                  "Compute precision of the networks in training; "
                  "mixed_bfloat16 is faster on CPUs with AVX-512 BF16. "
                  "Validation and export always run float32.")
flags.DEFINE_multi_string("set", [], "Any other config field: NAME=VALUE "
                          "with a JSON value, e.g. --set=normalization="
                          "'\"instance\"' --set=generator_filters="
                          "[320,160,80,40,20] (repeatable).")
flags.mark_flags_as_required(["data_dir", "checkpoint_dir"])

CONFIG_FLAGS = {"lr": "learning_rate", "latent_channels": "latent_channels",
                "entropy_model": "entropy_model", "lambda_mse": "lambda_mse",
                "lambda_feature_matching": "lambda_feature_matching",
                "lambda_perceptual": "lambda_perceptual",
                "perceptual_network": "perceptual_network",
                "gan_weight": "gan_weight", "beta": "beta",
                "warmup_steps": "warmup_steps", "mode": "mode",
                "weight_average": "weight_average",
                "discriminator_labels": "discriminator_labels"}


class UsageError(Exception):
  """A flag value the run cannot start with."""


def parse_settings(settings):
  """["NAME=JSON", ...] -> {field: value}, fields of the config only."""
  fields = {f.name for f in dataclasses.fields(config_lib.Config)}
  values = {}
  for setting in settings:
    name, _, text = setting.partition("=")
    if name not in fields:
      raise UsageError(f"--set={setting}: no config field {name!r}; "
                       f"fields: {', '.join(sorted(fields))}")
    try:
      value = json.loads(text)
    except ValueError:
      raise UsageError(f"--set={setting}: the value is not JSON (strings "
                       "need quotes: NAME='\"text\"')") from None
    values[name] = tuple(value) if isinstance(value, list) else value
  return values


def build_config():
  overrides = {field: getattr(FLAGS, name)
               for name, field in CONFIG_FLAGS.items()
               if getattr(FLAGS, name) is not None}
  if FLAGS.standin_labels:
    overrides.update(num_classes=FLAGS.standin_labels, standin_labels=True)
  elif FLAGS.num_classes is not None:
    overrides["num_classes"] = FLAGS.num_classes
  overrides.update(parse_settings(FLAGS.set))
  try:
    return config_lib.preset(FLAGS.preset).replace(**overrides)
  except config_lib.ConfigError as e:
    raise UsageError(str(e)) from e


def check_flags():
  for name in ("steps", "batch_size", "crop_size", "checkpoint_every",
               "log_every", "validate_every"):
    if getattr(FLAGS, name) < 1:
      raise UsageError(f"--{name} must be >= 1")
  if FLAGS.crop_size % 16:
    raise UsageError("--crop_size must be a multiple of 16")
  if FLAGS.max_zoom_out < 1:
    raise UsageError("--max_zoom_out must be >= 1 (1: no zooming out)")
  for name in ("data_dir", "val_dir"):
    folder = getattr(FLAGS, name)
    if folder and not os.path.isdir(folder):
      raise UsageError(f"--{name}={folder} is not a directory")
  if FLAGS.init_from and not os.path.exists(FLAGS.init_from):
    raise UsageError(f"--init_from={FLAGS.init_from} does not exist")
  if FLAGS.labels_dir and FLAGS.standin_labels:
    raise UsageError("give --labels_dir or --standin_labels, not both")
  if FLAGS.labels_dir and not FLAGS.num_classes:
    raise UsageError("--labels_dir needs --num_classes")
  if FLAGS.labels_dir and not os.path.isdir(FLAGS.labels_dir):
    raise UsageError(f"--labels_dir={FLAGS.labels_dir} is not a directory")
  if (FLAGS.mode == "sc" or FLAGS.discriminator_labels) and not (
      FLAGS.labels_dir or FLAGS.standin_labels):
    raise UsageError("--mode=sc and --discriminator_labels need label maps: "
                     "--labels_dir=DIR (with --num_classes) or "
                     "--standin_labels=K")
  fractions = (FLAGS.synthesis_instance_fraction,
               FLAGS.synthesis_box_fraction)
  if min(fractions) < 0 or sum(fractions) > 1:
    raise UsageError("--synthesis_instance_fraction and "
                     "--synthesis_box_fraction must be >= 0 and sum to <= 1")


def make_strategy():
  if FLAGS.strategy == "mirrored":
    devices = (tf.config.list_logical_devices("GPU")
               or tf.config.list_logical_devices("CPU"))
    return tf.distribute.MirroredStrategy([d.name for d in devices])
  if FLAGS.strategy == "multi_worker":
    return tf.distribute.MultiWorkerMirroredStrategy()
  if FLAGS.strategy == "tpu":
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
  return tf.distribute.get_strategy()


def worker_subdir(strategy):
  """None on the chief; a private folder name on other multi-host workers.

  Every MultiWorkerMirroredStrategy worker must take part in saving; only
  the chief's checkpoints, logs and export are kept in the shared folders.
  """
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return None
  has_chief = "chief" in resolver.cluster_spec().as_dict()
  if resolver.task_type == "chief" or (
      not has_chief and resolver.task_type == "worker"
      and resolver.task_id == 0):
    return None
  return f".{resolver.task_type}_{resolver.task_id}"


def check_run_config(checkpoint_dir, config):
  """Saves the config beside the checkpoints, or checks it matches."""
  path = os.path.join(checkpoint_dir, "config.json")
  if os.path.exists(path):
    with open(path) as f:
      saved = config_lib.Config.from_json(f.read())
    if saved != config:  # Fields added since then take their defaults.
      raise UsageError(f"{checkpoint_dir} holds a run with another config; "
                       "use the same flags to resume, or a new "
                       "--checkpoint_dir")
  else:
    with open(path, "w") as f:
      f.write(config.to_json())


def labelled_images(folder, data_dir, config):
  """The images of `folder` (an `ImageFolder` of `data_dir`) with their
  label source: (paths, `data.LabelSource` or None without labels,
  messages of images skipped for want of a usable --labels_dir map)."""
  if FLAGS.labels_dir:
    paths, label_paths, skipped = data.pair_label_maps(
        folder, data_dir, FLAGS.labels_dir, config.num_classes)
    return paths, data.LabelSource(config.num_classes, label_paths), skipped
  if FLAGS.standin_labels:
    return folder.paths, data.LabelSource(config.num_classes), []
  return folder.paths, None, []


def validation_examples(config):
  """--val_dir's images as the model takes them: uint8 [H, W, 3] arrays,
  or with labels dicts of "image" and "labels" (SC: everything preserved,
  so the figures compare with GC's). Label maps: paired from
  --labels_dir (val images without one are skipped), or stand-in ones."""
  folder = data.scan_folder(FLAGS.val_dir)
  if not config.uses_labels:
    return [data.load_rgb(p, FLAGS.max_short_side) for p in folder.paths]
  paths, source, _ = labelled_images(folder, FLAGS.val_dir, config)
  examples = []
  for i, path in enumerate(paths):
    image, labels = source.load(i, path, FLAGS.max_short_side)
    example = dict(image=image, labels=labels)
    if config.mode == "sc":
      example["synthesis_mask"] = np.zeros(labels.shape, bool)
    examples.append(example)
  return examples


def validation_lpips(checkpoint, best_dir):
  """FullImageValidation's `lpips` and `best` arguments; without the LPIPS
  weights validation goes on without them (and keeps no best model)."""
  try:
    metric = LPIPS("alexnet")
  except WeightsError as e:
    logging.warning("validation without LPIPS and best checkpoint: %s", e)
    return {}
  return dict(lpips=metric, best=callbacks.BestCheckpoint(checkpoint,
                                                          best_dir))


def warm_start(model, source):
  """Loads E and G (from a checkpoint also D and the entropy model)."""
  networks = dict(encoder=model.encoder, generator=model.generator)
  if model.semantic_encoder is not None:
    networks["semantic_encoder"] = model.semantic_encoder
  if os.path.exists(os.path.join(source, "saved_model.pb")):
    checkpoint = tf.train.Checkpoint(**networks)
    path = os.path.join(source, "variables", "variables")
  else:
    # The networks only: not the optimizers and their step counter.
    checkpoint = tf.train.Checkpoint(model=tf.train.Checkpoint(
        entropy_model=model.entropy_model,
        discriminator=model.discriminator, **networks))
    path = tf.train.latest_checkpoint(source)
    if path is None:
      raise UsageError(f"--init_from={source} holds no checkpoint or "
                       f"SavedModel")
  status = checkpoint.read(path)
  status.expect_partial().assert_existing_objects_matched()
  print(f"warm-started from {path}")


def run():
  check_flags()
  config = build_config()
  if FLAGS.cpu_devices > 1:
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0],
        [tf.config.LogicalDeviceConfiguration()] * FLAGS.cpu_devices)
  if FLAGS.seed is not None:
    tf.keras.utils.set_random_seed(FLAGS.seed)
    tf.config.experimental.enable_op_determinism()
  folder = data.scan_folder(FLAGS.data_dir, min_size=FLAGS.crop_size)
  print(f"{FLAGS.data_dir}: {len(folder.paths)} training images, "
        f"{len(folder.unreadable)} unreadable and {len(folder.too_small)} "
        f"smaller than {FLAGS.crop_size} px skipped")
  if not folder.paths:
    raise UsageError(f"no usable training images in {FLAGS.data_dir}")
  paths, labels, skipped = labelled_images(folder, FLAGS.data_dir, config)
  if FLAGS.labels_dir:
    for message in skipped:
      logging.warning("skipping %s", message)
    print(f"{FLAGS.labels_dir}: {len(paths)} images with label maps, "
          f"{len(skipped)} without a usable one skipped")
    if not paths:
      raise UsageError(f"no image in {FLAGS.data_dir} has a usable label "
                       f"map in {FLAGS.labels_dir}")
  synthesis = None
  if config.mode == "sc":
    synthesis = (FLAGS.synthesis_instance_fraction,
                 FLAGS.synthesis_box_fraction)
  strategy = make_strategy()
  dataset = data.training_dataset(
      paths, FLAGS.crop_size, FLAGS.batch_size, seed=FLAGS.seed,
      max_short_side=FLAGS.max_short_side, labels=labels,
      synthesis=synthesis, max_zoom_out=FLAGS.max_zoom_out)

  os.makedirs(FLAGS.checkpoint_dir, exist_ok=True)
  check_run_config(FLAGS.checkpoint_dir, config)
  with strategy.scope():
    model = GenerativeCompressionModel(config, precision=FLAGS.precision)
    model.compile()
  checkpoint = tf.train.Checkpoint(
      model=model, generator_optimizer=model.generator_optimizer,
      discriminator_optimizer=model.discriminator_optimizer)
  subdir = worker_subdir(strategy)
  own_dir = (os.path.join(FLAGS.checkpoint_dir, subdir) if subdir
             else FLAGS.checkpoint_dir)
  manager = tf.train.CheckpointManager(checkpoint, own_dir, max_to_keep=3)
  latest = tf.train.latest_checkpoint(FLAGS.checkpoint_dir)
  if latest:
    checkpoint.restore(latest).assert_consumed()
    print(f"resumed from {latest} at step {callbacks.global_step(model)}")
  elif FLAGS.init_from:
    warm_start(model, FLAGS.init_from)

  log_dir = FLAGS.log_dir or os.path.join(FLAGS.checkpoint_dir, "logs")
  if subdir:
    log_dir = os.path.join(log_dir, subdir)
  writer = tf.summary.create_file_writer(log_dir)
  run_callbacks = [callbacks.PeriodicCheckpoint(manager,
                                                FLAGS.checkpoint_every),
                   callbacks.TrainingLog(writer, FLAGS.log_every)]
  examples = validation_examples(config) if FLAGS.val_dir else []
  if examples:
    run_callbacks.append(callbacks.FullImageValidation(
        examples, writer, FLAGS.validate_every,
        **validation_lpips(checkpoint, os.path.join(own_dir, "best"))))
  elif FLAGS.val_dir:
    logging.warning("no usable validation images in %s", FLAGS.val_dir)

  # SIGTERM (e.g. from a job scheduler) ends the run like Ctrl-C: the
  # `finally` below still writes a checkpoint.
  signal.signal(signal.SIGTERM, signal.default_int_handler)
  step = callbacks.global_step(model)
  try:
    if step < FLAGS.steps:
      model.fit(dataset, epochs=1, steps_per_epoch=FLAGS.steps - step,
                callbacks=run_callbacks, verbose=1 if sys.stdout.isatty()
                else 2)
  finally:
    step = callbacks.global_step(model)
    if manager.latest_checkpoint != os.path.join(own_dir, f"ckpt-{step}"):
      manager.save(checkpoint_number=step)
    print(f"checkpoint at step {step} in {own_dir}")
  print(f"weights digest {export.model_id(config, model.weights)}")
  if FLAGS.export_dir and not subdir:
    model_id = export.export(model, FLAGS.export_dir)
    with open(os.path.join(FLAGS.export_dir, "training.json"), "w") as f:
      json.dump(dict(step=step, command=portable_command(sys.argv),
                     config=json.loads(config.to_json())), f, indent=2)
    print(f"exported model {model_id} to {FLAGS.export_dir}")


# Flags naming the training machine's files and folders.
PATH_FLAGS = ("data_dir", "val_dir", "labels_dir", "checkpoint_dir",
              "export_dir", "init_from")


def portable_command(argv):
  """The command as training.json records it: flag files expanded, the
  program's folder dropped and absolute paths cut to their last component
  (`--data_dir=.../train`): the training machine's folders mean nothing
  elsewhere."""
  def portable(argument):
    name, separator, value = argument.partition("=")
    if (separator and name.lstrip("-") in PATH_FLAGS
        and os.path.isabs(value)):
      return f"{name}=.../{os.path.basename(os.path.normpath(value))}"
    return argument
  program, *arguments = FLAGS.read_flags_from_files(argv, force_gnu=False)
  return [os.path.basename(program)] + [portable(a) for a in arguments]


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  try:
    run()
  except UsageError as e:
    print(f"train.py: {e}", file=sys.stderr)
    return 1
  except KeyboardInterrupt:
    print("train.py: interrupted; the checkpoint is saved, run the same "
          "command to resume", file=sys.stderr, flush=True)
    sys.stdout.flush()
    # Input pipeline threads can block a normal interpreter exit here.
    os._exit(130)
  return 0


if __name__ == "__main__":
  app.run(lambda argv: sys.exit(main(argv)))
