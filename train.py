"""Trains a tfgc model and exports it as a SavedModel: the command line
of `tfgc.training` (which trains from Python without absl).

  python train.py --data_dir=PHOTOS --preset=small --steps=50000
      --checkpoint_dir=RUN/ckpt --log_dir=RUN/logs --export_dir=RUN/export

Running the same command again resumes from the last checkpoint in
--checkpoint_dir (step counter, both optimizers, all networks).
--log_dir (absl's flag) sets the TensorBoard folder (default
CHECKPOINT_DIR/logs).

Selective compression (SC) trains on images with label maps:

  python train.py --mode=sc --data_dir=PHOTOS --labels_dir=LABELS
      --num_classes=34 ...          # label maps paired by file name
  python -m tfgc.labellers --labeller=person --images=PHOTOS --out=LABELS
  python train.py --mode=sc --data_dir=PHOTOS --labels_dir=LABELS
      --labeller=person ...         # a labeller's maps; the model runs it
  python train.py --mode=sc --data_dir=PHOTOS --labeller=standin
      --num_classes=8 ...
      # no label maps: 8 colour/position regions per image from the
      # stand-in labeller, which is NOT semantic segmentation
"""

import dataclasses
import json
import os
import signal
import sys

from absl import app, flags
# TensorFlow is imported here, not inside main (BUILD.md, pitfalls).
import tensorflow as tf  # noqa: F401

from tfgc import config as config_lib, labeller_registry, training
from tfgc.errors import TfgcError
from tfgc.model import PRECISIONS

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", None, "Folder of training images, searched "
                    "recursively (PNG, JPEG, WebP, TIFF, BMP).")
flags.DEFINE_string("val_dir", None, "Folder of validation images; decoded "
                    "whole (not cropped) every --validate_every steps.")
flags.DEFINE_enum("preset", "small", list(config_lib.PRESETS),
                  "Model preset (tfgc/config.py).")
flags.DEFINE_enum("mode", "gc", ["gc", "sc"],
                  "gc: global generative compression; sc: selective (needs "
                  "--labels_dir or --labeller=standin).")
flags.DEFINE_string("labels_dir", None, "Folder of label maps (one class id "
                    "per pixel, single-channel PNG) paired with the images "
                    "by name: DATA_DIR/sub/NAME.ext -> LABELS_DIR/sub/"
                    "NAME.png, NAME_labelIds.png, or for Cityscapes' "
                    "NAME_leftImg8bit, NAME_gtFine_labelIds.png. Images "
                    "without one are skipped and counted.")
flags.DEFINE_integer("num_classes", None, "Classes of --labels_dir's maps "
                     "(ids 0..N-1; Cityscapes labelIds: 34), or the stand-in "
                     "labeller's regions per image.")
flags.DEFINE_enum("labeller", None, labeller_registry.NAMES, "The labeller "
                  "of the label maps, recorded in the model, which runs it "
                  "when compressing without a label map. "
                  f"{labeller_registry.describe_fixed()}: --labels_dir as "
                  "`python -m tfgc.labellers --labeller=NAME` wrote it. "
                  "standin: no --labels_dir, --num_classes colour/position "
                  "regions computed per image (NOT "
                  "semantic segmentation: a stand-in to try SC on any "
                  "photos).")
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
                   "(default: preset's). With --lambda_feature_matching=0 "
                   "too, a warm-up: D is neither run nor trained.")
flags.DEFINE_float("beta", None, "β, weight of the rate in bpp (default: "
                   "preset's; 0 = rate set by C and L only).")
flags.DEFINE_float("weight_average", None, "Decay of the moving average "
                   "of the E/G weights that validation and export use, e.g. "
                   "0.999; 0 = none (default: preset's).")
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
flags.DEFINE_enum("strategy", "default", list(training.STRATEGIES),
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
                "gan_weight": "gan_weight", "beta": "beta", "mode": "mode",
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
  if FLAGS.labeller:
    overrides["labeller"] = FLAGS.labeller
  if FLAGS.num_classes is not None:
    overrides["num_classes"] = FLAGS.num_classes
  elif FLAGS.labeller:  # The stand-in's number is a flag (checked above).
    overrides["num_classes"] = len(
        labeller_registry.class_names(FLAGS.labeller, 0))
  overrides.update(parse_settings(FLAGS.set))
  try:
    return config_lib.preset(FLAGS.preset).replace(**overrides)
  except config_lib.ConfigError as e:
    raise UsageError(str(e)) from e


def run_options():
  """The flags of the run (all but the config's) as `training.RunOptions`."""
  names = {f.name for f in dataclasses.fields(training.RunOptions)}
  values = {name: getattr(FLAGS, name) for name in names - {"command"}}
  return training.RunOptions(command=tuple(portable_command(sys.argv)),
                             **values)


def check_label_flags():
  """Label flags missing for the config they ask for: refused here, where
  the fix can name the flags, before building the config fails less
  helpfully."""
  if FLAGS.labels_dir and not (FLAGS.num_classes or FLAGS.labeller):
    raise UsageError("--labels_dir needs --num_classes (or --labeller)")
  if FLAGS.labeller == "standin" and not FLAGS.num_classes:
    raise UsageError("--labeller=standin needs --num_classes=K (regions "
                     "per image)")
  if (FLAGS.mode == "sc" or FLAGS.discriminator_labels) and not (
      FLAGS.labels_dir or FLAGS.labeller):
    raise UsageError("--mode=sc and --discriminator_labels need label maps: "
                     "--labels_dir=DIR (with --num_classes or --labeller) "
                     "or --labeller=standin --num_classes=K")


def run():
  check_label_flags()
  config = build_config()
  training.train(config, run_options())


def portable_command(argv):
  """The command as training.json records it: flag files expanded, the
  program's folder dropped and absolute paths cut to their last component
  (`--data_dir=.../train`): the training machine's folders mean nothing
  elsewhere."""
  def portable(argument):
    name, separator, value = argument.partition("=")
    if separator and name.lstrip("-") in training.PATH_OPTIONS:
      return f"{name}={training.portable_path(value)}"
    return argument
  program, *arguments = FLAGS.read_flags_from_files(argv, force_gnu=False)
  return [os.path.basename(program)] + [portable(a) for a in arguments]


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  # SIGTERM (e.g. from a job scheduler) ends the run like Ctrl-C: training
  # still writes a checkpoint.
  signal.signal(signal.SIGTERM, signal.default_int_handler)
  try:
    run()
  except (UsageError, TfgcError) as e:
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
