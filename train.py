"""Trains a tfgc model and exports it as a SavedModel: the command line
of `tfgc.training` (which trains from Python without absl).

  python train.py --data_dir=PHOTOS --preset=small --steps=50000
      --checkpoint_dir=RUN/ckpt

Running the same command again resumes from the last checkpoint in
--checkpoint_dir (step counter, both optimizers, all networks). At the
end the model is exported to --export_dir (default CHECKPOINT_DIR/export;
--export_dir= exports nothing). --log_dir (absl's flag) sets the
TensorBoard folder (default CHECKPOINT_DIR/logs).

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
from typing import Optional

from absl import app, flags
# TensorFlow is imported here, not inside main (BUILD.md, pitfalls).
import tensorflow as tf  # noqa: F401

from tfgc import config as config_lib, labeller_registry, training
from tfgc.errors import TfgcError

FLAGS = flags.FLAGS
FLAG_TYPES = {str: flags.DEFINE_string, Optional[str]: flags.DEFINE_string,
              int: flags.DEFINE_integer, Optional[int]: flags.DEFINE_integer,
              float: flags.DEFINE_float, bool: flags.DEFINE_bool}


def define_field_flags(dataclass, exclude=(), unset_help=None):
  """A flag for each field of `dataclass` but `exclude`: the field's name,
  default and type, and its metadata's help (and choices, an enum). With
  `unset_help` the default is None (the value comes from elsewhere) and
  the help ends with `unset_help`."""
  for field in dataclasses.fields(dataclass):
    if field.name in exclude:
      continue
    default = (None if unset_help or field.default is dataclasses.MISSING
               else field.default)
    help_text = " ".join(filter(None, (field.metadata["help"], unset_help)))
    if "choices" in field.metadata:
      flags.DEFINE_enum(field.name, default, list(field.metadata["choices"]),
                        help_text)
    else:
      FLAG_TYPES[field.type](field.name, default, help_text)


# --log_dir is absl's own flag; `command` is this command line.
define_field_flags(training.RunOptions, exclude=("log_dir", "command"))
flags.mark_flags_as_required(["data_dir", "checkpoint_dir"])
# The recipe: a named one, and any of its fields over it.
flags.DEFINE_enum("recipe", "adversarial", list(config_lib.RECIPES),
                  "Named recipe (tfgc/config.py, RECIPES), changed by any "
                  "recipe flag given: adversarial (the bundled models' "
                  "adversarial stage, which fine-tuning a bundled model "
                  "continues), warmup (distortion and rate only, no D), rd "
                  "(issue 28's rate-distortion backbone: set the rate with "
                  "--beta), base (the Recipe class's defaults, train.py's "
                  "before --recipe). The run prints the recipe first.")
define_field_flags(config_lib.Recipe, unset_help="Default: --recipe's.")
flags.DEFINE_alias("lr", "learning_rate")

# The model config: a preset, and the fields most runs change.
flags.DEFINE_enum("preset", "small", list(config_lib.PRESETS),
                  "Model preset (tfgc/config.py).")
flags.DEFINE_enum("mode", None, list(config_lib.MODES),
                  "gc: global generative compression; sc: selective (needs "
                  "--labels_dir or --labeller=standin). Default: preset's.")
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
flags.DEFINE_integer("latent_channels", None, "C, latent channels "
                     "(default: preset's); sets the rate bound C*log2(L)/256.")
flags.DEFINE_enum("entropy_model", None, list(config_lib.ENTROPY_MODELS),
                  "Entropy model (default: preset's).")
flags.DEFINE_multi_string("set", [], "Any other model config field: "
                          "NAME=VALUE with a JSON value, e.g. "
                          "--set=normalization='\"instance\"' "
                          "--set=generator_filters=[320,160,80,40,20] "
                          "(repeatable).")

CONFIG_FLAGS = ("latent_channels", "entropy_model", "mode",
                "discriminator_labels")


class UsageError(Exception):
  """A flag value the run cannot start with."""


def parse_settings(settings):
  """["NAME=JSON", ...] -> {field: value}, fields of the config only."""
  fields = {f.name for f in dataclasses.fields(config_lib.Config)}
  values = {}
  for setting in settings:
    name, _, text = setting.partition("=")
    if name in config_lib.RECIPE_FIELDS:
      raise UsageError(f"--set={setting}: {name} is a recipe field, not "
                       f"the model's: use --{name}={text}")
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
  overrides = {name: getattr(FLAGS, name) for name in CONFIG_FLAGS
               if getattr(FLAGS, name) is not None}
  if FLAGS.labeller:
    overrides["labeller"] = FLAGS.labeller
  if FLAGS.num_classes is not None:
    overrides["num_classes"] = FLAGS.num_classes
  elif FLAGS.labeller:  # The stand-in's number is a flag.
    overrides["num_classes"] = len(
        labeller_registry.class_names(FLAGS.labeller, 0))
  overrides.update(parse_settings(FLAGS.set))
  try:
    return config_lib.preset(FLAGS.preset).replace(**overrides)
  except config_lib.ConfigError as e:
    raise UsageError(str(e)) from e


def given_recipe_flags():
  """{field: value} of the recipe flags given."""
  return {name: getattr(FLAGS, name) for name in config_lib.RECIPE_FIELDS
          if getattr(FLAGS, name) is not None}


def build_recipe():
  """The --recipe recipe with the recipe flags given over it."""
  try:
    return config_lib.recipe_preset(FLAGS.recipe).replace(
        **given_recipe_flags())
  except config_lib.ConfigError as e:
    raise UsageError(str(e)) from e


def describe_recipe(recipe):
  """One line: the --recipe name, the recipe flags given over it, and every
  field's value."""
  given = given_recipe_flags()
  over = f" with --{', --'.join(given)}" if given else ""
  values = ", ".join(
      f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
      for name, value in dataclasses.asdict(recipe).items())
  return f"recipe {FLAGS.recipe}{over}: {values}"


def run_options():
  """The flags of the run (all but the config's) as `training.RunOptions`."""
  names = {f.name for f in dataclasses.fields(training.RunOptions)}
  values = {name: getattr(FLAGS, name) for name in names - {"command"}}
  # absl's own --log_dir is "" when not given.
  values["log_dir"] = values["log_dir"] or None
  return training.RunOptions(command=tuple(portable_command(sys.argv)),
                             **values)


def run():
  config = build_config()
  recipe = build_recipe()
  print(describe_recipe(recipe), flush=True)
  training.train(config, run_options(), recipe)


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
