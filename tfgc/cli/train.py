"""`tfgc train` (and `python train.py`): trains a tfgc model and exports
it as a SavedModel; the command line of `tfgc.training` (which trains from
Python without absl).

  tfgc train --data_dir=PHOTOS --preset=small --steps=50000
      --checkpoint_dir=RUN/ckpt

Running the same command again resumes from the last checkpoint in
--checkpoint_dir (step counter, both optimizers, all networks). At the
end the model is exported to --export_dir (default CHECKPOINT_DIR/export;
--export_dir= exports nothing). --log_dir sets the TensorBoard folder
(default CHECKPOINT_DIR/logs).

Selective compression (SC) trains on images with label maps:

  tfgc train --mode=sc --data_dir=PHOTOS --labels_dir=LABELS
      --num_classes=34 ...          # label maps paired by file name
  tfgc label --labeller=person --images=PHOTOS --out=LABELS
  tfgc train --mode=sc --data_dir=PHOTOS --labels_dir=LABELS
      --labeller=person ...         # a labeller's maps; the model runs it
  tfgc train --mode=sc --data_dir=PHOTOS --labeller=standin
      --num_classes=8 ...
      # no label maps: 8 colour/position regions per image from the
      # stand-in labeller, which is NOT semantic segmentation

The flags are parsed and checked before TensorFlow is imported, so
--help and mistakes answer at once.
"""

import dataclasses
import json
import os
import signal
import sys
from typing import Optional

from absl import flags
# Imported for its --log_dir flag, which TensorFlow's import would
# otherwise define after ours.
from absl import logging as absl_logging  # noqa: F401

from tfgc import config as config_lib, extras, labeller_registry, quiet
from tfgc import run_options
from tfgc.errors import TfgcError

PROGRAM = "tfgc train"
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
define_field_flags(run_options.RunOptions, exclude=("log_dir", "command"))
REQUIRED_FLAGS = ("data_dir", "checkpoint_dir")
# The recipe: a named one, and any of its fields over it.
flags.DEFINE_enum("recipe", "adversarial", list(config_lib.RECIPES),
                  "Named recipe (tfgc/config.py, RECIPES), changed by any "
                  "recipe flag given: adversarial (the bundled models' "
                  "adversarial stage, which fine-tuning a bundled model "
                  "continues), warmup (distortion and rate only, no D), rd "
                  "(issue 28's rate-distortion backbone: set the rate with "
                  "--beta), base (the Recipe class's defaults, train's "
                  "before --recipe). The run prints the recipe first.")
define_field_flags(config_lib.Recipe, unset_help="Default: --recipe's.")
flags.DEFINE_alias("lr", "learning_rate")
flags.DEFINE_bool("verbose", False, "Also show TensorFlow's log lines.")

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
                  "`tfgc label --labeller=NAME` wrote it. "
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


HELP_FLAGS = {"-h", "--help", "-help", "--helpfull", "--helpshort"}


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


def options_from_flags(argv):
  """The flags of the run (all but the config's) as `RunOptions`; `argv`
  without the program name."""
  names = {f.name for f in dataclasses.fields(run_options.RunOptions)}
  values = {name: getattr(FLAGS, name) for name in names - {"command"}}
  # absl's own --log_dir is "" when not given.
  values["log_dir"] = values["log_dir"] or None
  return run_options.RunOptions(command=tuple(portable_command(argv)),
                                **values)


def run(argv):
  """Checks the parsed flags, then imports TensorFlow and trains."""
  config = build_config()
  recipe = build_recipe()
  options = options_from_flags(argv)
  options.check(config)
  extras.require("train")
  print(describe_recipe(recipe), flush=True)
  from tfgc import training  # TensorFlow: after the flags are known good.
  training.train(config, options, recipe)


def portable_command(argv):
  """The command as training.json records it: `tfgc train`, flag files
  expanded and absolute paths cut to their last component
  (`--data_dir=.../train`): the training machine's folders mean nothing
  elsewhere."""
  def portable(argument):
    name, separator, value = argument.partition("=")
    if separator and name.lstrip("-") in run_options.PATH_OPTIONS:
      return f"{name}={run_options.portable_path(value)}"
    return argument
  _, *arguments = FLAGS.read_flags_from_files([PROGRAM, *argv],
                                              force_gnu=False)
  return PROGRAM.split() + [portable(a) for a in arguments]


def help_text():
  """The usage (this module's docstring) and the flags, for --help."""
  return f"{__doc__}\n{FLAGS.module_help(__name__)}\n"


def parse(argv):
  """Parses `argv` (without the program name) into FLAGS; UsageError with
  absl's message if a flag is unknown, malformed or missing."""
  try:
    arguments = FLAGS([PROGRAM, *argv])
  except flags.Error as e:
    raise UsageError(f"{e} (see `{PROGRAM} --help`)") from None
  if len(arguments) > 1:
    raise UsageError(f"unexpected arguments: {' '.join(arguments[1:])} "
                     "(flags are --NAME=VALUE)")
  missing = [f"--{name}" for name in REQUIRED_FLAGS if not FLAGS[name].value]
  if missing:
    raise UsageError(f"{' and '.join(missing)} required (see "
                     f"`{PROGRAM} --help`)")


def main(argv=None):
  """`tfgc train` on `argv` (default sys.argv[1:]): 0 when trained, 1 on a
  usage or training error, 130 on Ctrl-C or SIGTERM (with a checkpoint)."""
  argv = sys.argv[1:] if argv is None else list(argv)
  if HELP_FLAGS & set(argv):
    print(help_text())
    return 0
  quiet.configure(quiet.wants_verbose(argv))
  # SIGTERM (e.g. from a job scheduler) ends the run like Ctrl-C: training
  # still writes a checkpoint.
  signal.signal(signal.SIGTERM, signal.default_int_handler)
  try:
    parse(argv)
    run(argv)
  except (UsageError, TfgcError) as e:
    print(f"{PROGRAM}: {e}", file=sys.stderr)
    return 1
  except KeyboardInterrupt:
    print(f"{PROGRAM}: interrupted; the checkpoint is saved, run the same "
          "command to resume", file=sys.stderr, flush=True)
    sys.stdout.flush()
    # Input pipeline threads can block a normal interpreter exit here.
    os._exit(130)
  finally:
    FLAGS.unparse_flags()  # The next call in this process starts afresh.
  return 0
