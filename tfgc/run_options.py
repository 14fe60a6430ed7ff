"""The options of a training run other than the model's config and its
recipe (`RunOptions`), and their checks: the part of training that needs
no TensorFlow, so that `tfgc train` parses and refuses bad flags before
the slow import (`tfgc.training` runs the options)."""

import dataclasses
import os
from typing import Optional, Tuple

from tfgc import labeller_registry, labellers, labelmaps, zoo
from tfgc.config import PRECISIONS
from tfgc.errors import TfgcError

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")

# Options naming the training machine's files and folders.
PATH_OPTIONS = ("data_dir", "val_dir", "labels_dir", "checkpoint_dir",
                "export_dir", "log_dir", "init_from")


class TrainingError(TfgcError):
  """A run that cannot start with the options given."""


def _option(default=dataclasses.MISSING, **metadata):
  """A RunOptions field: its `help` (and `choices`) make `tfgc train`'s flag."""
  return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class RunOptions:
  """Everything of a run but the model's config and its recipe.

  Each field is also a `tfgc train` flag of the same name, default and help
  (the metadata); `command` is the command line that started the run, for
  training.json (`tfgc train` gives its own, with paths cut to their last
  component).
  """

  data_dir: str = _option(help="Folder of training images, searched "
                          "recursively (PNG, JPEG, WebP, TIFF, BMP).")
  checkpoint_dir: str = _option(help="Checkpoints, config.json, "
                                "recipe.json and options.json; a run here "
                                "is resumed.")
  val_dir: Optional[str] = _option(None, help="Folder of validation images; "
                                   "decoded whole (not cropped) every "
                                   "--validate_every steps.")
  labels_dir: Optional[str] = _option(
      None, help="Folder of label maps (one class id per pixel, "
      "single-channel PNG) paired with the images by name: "
      "DATA_DIR/sub/NAME.ext -> LABELS_DIR/sub/NAME.png, NAME_labelIds.png, "
      "or for Cityscapes' NAME_leftImg8bit, NAME_gtFine_labelIds.png. "
      "Images without one are skipped and counted. With a labeller, the "
      "maps `tfgc label` wrote (its classes.txt is checked); "
      "the stand-in labeller needs none.")
  export_dir: Optional[str] = _option(
      None, help="Where the trained SavedModel goes (default "
      "CHECKPOINT_DIR/export; --export_dir= exports nothing).")
  log_dir: Optional[str] = _option(
      None, help="TensorBoard folder (default CHECKPOINT_DIR/logs).")
  init_from: Optional[str] = _option(
      None, help="Warm-start the networks from a checkpoint directory, an "
      "exported model or a bundled model's name (e.g. gc-small-c8; a path "
      "of that name wins) when --checkpoint_dir holds no run yet.")
  steps: int = _option(100000, help="Total training steps (E/G updates).")
  batch_size: int = _option(8, help="Global batch size.")
  crop_size: int = _option(128, help="Side of the random square crops, a "
                           "multiple of 16; smaller images are skipped "
                           "(and counted).")
  max_zoom_out: float = _option(
      1.0, help="Crops cover crop_size*s source pixels, s uniform in [1, "
      "this], downscaled to crop_size: training at several scales of the "
      "same photos.")
  max_short_side: int = _option(768, help="Downscale images whose shorter "
                                "side is longer than this before cropping "
                                "(0: never).")
  synthesis_instance_fraction: float = _option(
      0.4, help="SC: share of training crops whose synthesis mask is one "
      "whole class.")
  synthesis_box_fraction: float = _option(
      0.4, help="SC: share of training crops whose synthesis mask is a "
      "random box.")
  synthesis_background_fraction: float = _option(
      0.0, help="SC: share of training crops that keep one class other "
      "than background (class 0 of the person and objects labellers) and "
      "synthesise the rest, as --keep=CLASS does in use (the crops beyond "
      "the three shares synthesise nothing).")
  checkpoint_every: int = _option(500, help="Steps between checkpoints.")
  log_every: int = _option(100, help="Steps between TensorBoard scalars.")
  validate_every: int = _option(1000, help="Steps between validations.")
  seed: Optional[int] = _option(None, help="Random seed; also makes ops "
                                "deterministic (slower), so runs repeat "
                                "exactly.")
  precision: str = _option(
      "float32", choices=PRECISIONS,
      help="Compute precision of the networks in training; mixed_bfloat16 "
      "is faster on CPUs with AVX-512 BF16. Validation and export always "
      "run float32.")
  strategy: str = _option("default", choices=STRATEGIES,
                          help="tf.distribute strategy (multi_worker reads "
                          "TF_CONFIG).")
  cpu_devices: int = _option(
      0, help="Split the CPU into this many logical devices (with "
      "--strategy=mirrored: data parallelism on one machine without GPUs, "
      "e.g. to test a setup).")
  command: Tuple[str, ...] = ()

  def check(self, config):
    """Raises TrainingError naming the first option `config` cannot train
    with; writes no file."""
    def need(condition, message):
      if not condition:
        raise TrainingError(message)
    for name in ("steps", "batch_size", "crop_size", "checkpoint_every",
                 "log_every", "validate_every"):
      need(getattr(self, name) >= 1, f"--{name} must be >= 1")
    need(self.crop_size % 16 == 0, "--crop_size must be a multiple of 16")
    need(self.max_zoom_out >= 1,
         "--max_zoom_out must be >= 1 (1: no zooming out)")
    for name in ("data_dir", "val_dir", "labels_dir"):
      folder = getattr(self, name)
      need(not folder or os.path.isdir(folder),
           f"--{name}={folder} is not a directory")
    if self.init_from:
      init_source(self.init_from)
    need(self.precision in PRECISIONS,
         f"--precision must be one of {', '.join(PRECISIONS)}")
    need(self.strategy in STRATEGIES,
         f"--strategy must be one of {', '.join(STRATEGIES)}")
    standin = config.labeller == "standin"
    need(not (self.labels_dir and standin),
         "the standin labeller labels every crop itself: drop --labels_dir")
    need(not self.labels_dir or config.num_classes >= 1,
         "--labels_dir needs --num_classes (the maps' classes) or "
         "--labeller")
    need(not config.uses_labels or self.labels_dir or standin,
         "the config takes label maps (mode 'sc' or discriminator_labels): "
         "give --labels_dir" + (
             f", labelled by `tfgc label --labeller="
             f"{config.labeller} --images=DATA_DIR --out=LABELS_DIR`"
             if config.labeller else ", or use --labeller=standin"))
    if self.labels_dir and config.labeller:
      check_labeller_maps(self.labels_dir, config)
    fractions = (self.synthesis_instance_fraction,
                 self.synthesis_box_fraction,
                 self.synthesis_background_fraction)
    need(min(fractions) >= 0 and sum(fractions) <= 1,
         "--synthesis_instance_fraction, --synthesis_box_fraction and "
         "--synthesis_background_fraction must be >= 0 and sum to <= 1")
    need(not self.synthesis_background_fraction
         or config.labeller in labeller_registry.FIXED_CLASSES,
         "--synthesis_background_fraction takes class 0 as the background: "
         "it needs --labeller="
         + " or ".join(labeller_registry.FIXED_CLASSES))

  def portable(self):
    """The options as training.json records them: absolute paths cut to
    their last component (`.../train`), meaningless elsewhere otherwise."""
    values = dataclasses.asdict(self)
    for name in PATH_OPTIONS:
      values[name] = portable_path(values[name])
    values["command"] = list(self.command)
    return values

  @property
  def export_path(self):
    """Where `train` exports: `export_dir`, CHECKPOINT_DIR/export if it is
    None, nowhere (None) if it is ""."""
    if self.export_dir is None:
      return os.path.join(self.checkpoint_dir, "export")
    return self.export_dir or None


def init_source(init_from):
  """The folder `init_from` names: an existing path as it is (a checkpoint
  folder or an export), else the bundled model of that name (`tfgc.zoo`);
  TrainingError if neither."""
  if os.path.exists(init_from):
    return init_from
  if init_from in zoo.names():
    return zoo.path(init_from)
  raise TrainingError(
      f"--init_from={init_from} does not exist: give a checkpoint folder, "
      "an export or a bundled model's name "
      f"({', '.join(zoo.names()) or 'none bundled'})")


def portable_path(path):
  """`path` if relative (or None), else `.../` and its last component."""
  if not path or not os.path.isabs(path):
    return path
  return f".../{os.path.basename(os.path.normpath(path))}"


def check_labeller_maps(labels_dir, config):
  """Refuses a `labels_dir` that the config's labeller did not write: its
  classes.txt must list that labeller's classes."""
  expected = list(labellers.class_names(config.labeller, config.num_classes))
  path = os.path.join(labels_dir, "classes.txt")
  found = (labelmaps.read_class_names(path) if os.path.exists(path)
           else None)
  if found != expected:
    raise TrainingError(
        f"{labels_dir} holds no maps of the {config.labeller} labeller "
        f"(its classes.txt lists {found or 'nothing'}, not {expected}): "
        f"label the photos with `tfgc label --labeller="
        f"{config.labeller} --images=DATA_DIR --out={labels_dir}`")
