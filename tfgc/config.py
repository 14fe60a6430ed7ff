"""What a model is and how it is trained: two frozen dataclasses.

`Config`, with its named presets, is the model: every field maps to a
symbol or a layer of docs/DESIGN.md, "The method" (Agustsson et al.,
ICCV 2019). It is saved as JSON beside every checkpoint and in every
export (and enters the model id), and loaded back to rebuild the same
model; a run resumes only with the same one.

`Recipe` is how it is trained: loss weights, optimizer, weight average,
with its named recipes (`RECIPES`: `tfgc train`'s --recipe). A run can resume
with another recipe (a lower learning rate, say), and an export does not
depend on it; training.json records it.

Configs saved before the split hold both; `Config.from_json` reads their
model fields and `Recipe.from_json` their recipe fields.
"""

import dataclasses
import json
import math
from typing import Tuple

from tfgc import labeller_registry

NORMALIZATIONS = ("instance", "channel", "gdn")
UPSAMPLINGS = ("transpose", "resize")
ENTROPY_MODELS = ("factorized", "hyperprior")
PERCEPTUAL_NETWORKS = ("vgg16", "alexnet")
MODES = ("gc", "sc")
# Compute precisions of E, G, F, D and the perceptual network in training.
# "mixed_bfloat16" computes in bfloat16 (AVX-512 BF16 through oneDNN on
# CPUs that have it) with float32 variables; the quantizer, the entropy
# model and the losses stay float32, and export and validation run a
# float32 copy (`inference_model`), so files and figures are those of
# float32 whichever precision trained the weights.
PRECISIONS = ("float32", "mixed_bfloat16")
MAX_CLASSES = 256
# Cells per side of the colour-context blocks (`Config.colour_context`):
# integer block sums stay well inside int32.
MAX_COLOUR_CONTEXT = 8

# The encoder downsamples four times by 2: latents are at 1/16 resolution.
STRIDE = 16


def latent_shape(image_shape):
  """Image (H, W) -> the latent grid (ceil(H/16), ceil(W/16)): a tuple of
  ints for a tuple or list, int32 [2] for a tensor."""
  if isinstance(image_shape, (tuple, list)):
    return tuple((size + STRIDE - 1) // STRIDE for size in image_shape)
  return (image_shape + STRIDE - 1) // STRIDE


class ConfigError(ValueError):
  """A config field has a value the model cannot be built with."""


class _Saved:
  """What `Config` and `Recipe` share: copies and JSON."""

  def replace(self, **changes):
    """A copy with some fields changed (validated)."""
    return dataclasses.replace(self, **changes)

  def to_json(self) -> str:
    return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


@dataclasses.dataclass(frozen=True)
class Config(_Saved):
  """Architecture, quantizer and entropy model of one model (and of the
  discriminator it is trained against).

  Attributes:
    name: preset name, recorded in exports.
    mode: "gc" (global generative compression) or "sc" (selective: the
      user's synthesised regions send no latents; G paints them from the
      semantic label map through F).
    latent_channels: C, channels of w = E(x); the rate bound is
      C * log2(L) / 256 bits per pixel.
    centers: the quantizer's L centres, consecutive integers (paper:
      -2..2), so that symbols are coded as integers without offsets.
    encoder_filters: E's widths: c7s1-k0, then d-k1 ... d-k4 (4 stride-2
      convs, overall stride 16), then a 3x3 conv to C channels.
    generator_filters: G's width at latent resolution (c3s1-k and the
      residual blocks), then the widths of the four 2x upsampling stages.
    residual_blocks: number of Rk blocks in G.
    num_classes: classes of the semantic label maps (ids 0..num_classes-1);
      0 when the model takes no label map (plain GC).
    semantic_filters: F's widths on the one-hot label map (SC): c7s1-k0,
      then d-k1 ... d-k4, down to latent resolution.
    discriminator_labels: D also sees the one-hot label map ("D+"; GC or
      SC, training only).
    labeller: the labeller whose maps the model was trained on (one of
      `labeller_registry.NAMES`; "" = the user's own label maps):
      compressing without a label map runs it, and its class names name
      the classes. "standin" (`num_classes` colour/position regions, not
      semantic) also refuses the user's maps; the others have the classes
      of `labeller_registry.FIXED_CLASSES`.
    noise_channels: channels of the noise r ~ N(0, 1) concatenated to ŵ
      (0 disables it).
    discriminator_filters: widths of each patch discriminator (Ck layers).
    discriminator_scales: number of image scales D sees (1, 1/2, 1/4, ...).
    normalization: "instance" (paper), "channel" (per-pixel across
      channels; independent of image size, see docs/DESIGN.md,
      "Pitfalls") or "gdn" (GDN in E, F and G, with conv biases and no
      ReLU: the divisive normalisation of Ballé et al.'s transforms; D
      then uses "channel").
    upsampling: "transpose" (paper's uk) or "resize" (nearest + 3x3 conv,
      no checkerboard).
    conv_bias: the convs of E, F and G before a normalisation have a bias
      (always with "gdn"). Instance norm removes any per-channel bias, so
      it changes nothing there; channel norm removes only the mean across
      channels, and without a bias a flat region's level is lost at E's
      first layer (conv(b·1) = b·s normalises to ±s/|s| whatever b is).
      Off in the presets the released models were trained with.
    entropy_model: "factorized" (NoisyDeepFactorized per channel) or
      "hyperprior" (scale hyperprior with a factorized side latent).
    hyperprior_channels: channels of the hyper latent z.
    realism_dial: G also takes a realism weight r in [0, 1] per image
      (`networks.RealismModulation`): training draws r per example and
      weighs the realism terms (perceptual, GAN, feature matching) by it,
      the MSE always on, so one bitstream decodes anywhere from the
      MSE-trained reconstruction (r = 0) to the fully generative one
      (r = 1), chosen at decode time.
    colour_context: SC only: the side, in latent cells, of the blocks
      whose mean colour the file carries wherever they hold a painted
      cell (5 bits per channel; `tfgc.colour_context`), G's context for
      painting there (what colours and light continue the kept region);
      0 = none, as the paper's SC. 4: 64-pixel blocks, 0.0037 bpp for a
      wholly painted 768x512 background.
  """

  name: str = "custom"
  mode: str = "gc"
  latent_channels: int = 8
  centers: Tuple[int, ...] = (-2, -1, 0, 1, 2)
  encoder_filters: Tuple[int, ...] = (60, 120, 240, 480, 960)
  generator_filters: Tuple[int, ...] = (960, 480, 240, 120, 60)
  residual_blocks: int = 9
  num_classes: int = 0
  semantic_filters: Tuple[int, ...] = (60, 120, 240, 480, 960)
  discriminator_labels: bool = False
  labeller: str = ""
  noise_channels: int = 0
  discriminator_filters: Tuple[int, ...] = (64, 128, 256, 512)
  discriminator_scales: int = 3
  normalization: str = "instance"
  upsampling: str = "transpose"
  conv_bias: bool = False
  entropy_model: str = "factorized"
  hyperprior_channels: int = 64
  realism_dial: bool = False
  colour_context: int = 0

  def __post_init__(self):
    self.validate()

  def validate(self):
    """Raises ConfigError naming the first field that cannot work."""
    def need(condition, message):
      if not condition:
        raise ConfigError(f"config {self.name!r}: {message}")
    need(self.mode in MODES, f"mode must be one of {MODES}, got {self.mode!r}")
    need(self.latent_channels >= 1, "latent_channels must be >= 1")
    need(len(self.centers) >= 2, "centers needs at least 2 values")
    need(all(isinstance(c, int) for c in self.centers)
         and list(self.centers) == list(
             range(self.centers[0], self.centers[0] + len(self.centers))),
         f"centers must be consecutive integers, got {self.centers}")
    need(len(self.encoder_filters) == 5,
         "encoder_filters needs 5 widths (c7s1 then 4 downsamplings)")
    need(len(self.generator_filters) == 5,
         "generator_filters needs 5 widths (latent width then 4 upsamplings)")
    need(min(self.encoder_filters + self.generator_filters) >= 1,
         "filter widths must be >= 1")
    need(self.residual_blocks >= 0, "residual_blocks must be >= 0")
    need(0 <= self.num_classes <= MAX_CLASSES,
         f"num_classes must be in 0..{MAX_CLASSES}")
    need(not self.labeller or self.labeller in labeller_registry.NAMES,
         f"labeller must be one of {', '.join(labeller_registry.NAMES)}, "
         "or empty")
    need(not self.labeller or self.uses_labels,
         "a labeller needs mode 'sc' or discriminator_labels")
    need(self.labeller != "standin" or self.num_classes >= 1,
         "the standin labeller needs num_classes >= 1 (the number of "
         "regions)")
    need(not self.selective or self.num_classes >= 1,
         "mode 'sc' needs label maps: num_classes >= 1 (their classes) or "
         "a labeller")
    need(not self.discriminator_labels or self.num_classes >= 1,
         "discriminator_labels needs label maps: num_classes >= 1 (their "
         "classes) or a labeller")
    classes = len(labeller_registry.FIXED_CLASSES.get(
        self.labeller, range(self.num_classes)))
    need(self.num_classes == classes,
         f"the {self.labeller} labeller has num_classes {classes}")
    need(len(self.semantic_filters) == 5 and min(self.semantic_filters) >= 1,
         "semantic_filters needs 5 widths >= 1 (c7s1 then 4 downsamplings)")
    need(self.noise_channels >= 0, "noise_channels must be >= 0")
    need(len(self.discriminator_filters) >= 1,
         "discriminator_filters needs at least one width")
    need(self.discriminator_scales >= 1, "discriminator_scales must be >= 1")
    need(self.normalization in NORMALIZATIONS,
         f"normalization must be one of {NORMALIZATIONS}")
    need(self.upsampling in UPSAMPLINGS,
         f"upsampling must be one of {UPSAMPLINGS}")
    need(self.entropy_model in ENTROPY_MODELS,
         f"entropy_model must be one of {ENTROPY_MODELS}")
    need(isinstance(self.conv_bias, bool), "conv_bias must be true or false")
    need(self.hyperprior_channels >= 1, "hyperprior_channels must be >= 1")
    need(isinstance(self.realism_dial, bool),
         "realism_dial must be true or false")
    need(isinstance(self.colour_context, int)
         and not isinstance(self.colour_context, bool)
         and 0 <= self.colour_context <= MAX_COLOUR_CONTEXT,
         f"colour_context must be in 0..{MAX_COLOUR_CONTEXT} (cells per "
         "block side; 0 = none)")
    need(not self.colour_context or self.selective,
         "colour_context is for mode 'sc' (the colour of painted regions)")

  def identity_json(self) -> str:
    """The JSON a model id hashes: `to_json` without the fields added
    after models were released (`ADDED_FIELDS`) while at the value that
    behaves as before, so a model without them keeps its id."""
    values = dataclasses.asdict(self)
    for name, value in ADDED_FIELDS.items():
      if values[name] == value:
        del values[name]
    return json.dumps(values, indent=2, sort_keys=True)

  @property
  def num_centers(self) -> int:
    """L, the number of quantizer centres."""
    return len(self.centers)

  @property
  def selective(self) -> bool:
    """Whether the model is SC (regions synthesised from a label map)
    rather than GC."""
    return self.mode == "sc"

  @property
  def uses_labels(self) -> bool:
    """Whether training or coding takes a semantic label map."""
    return self.selective or self.discriminator_labels

  @property
  def bits_per_pixel_bound(self) -> float:
    """dim(ŵ) · log2(L) per pixel: the rate no entropy model can exceed."""
    return self.latent_channels * math.log2(self.num_centers) / STRIDE ** 2

  @classmethod
  def from_json(cls, text: str) -> "Config":
    """Parses a config saved by `to_json`; unknown fields are an error.

    Fields added since the config was saved take the values of the preset
    it names (the class defaults if it names none), so a run saved by an
    older tfgc still resumes and compares equal to its preset's config.
    The recipe fields of configs saved before the split are left out.
    """
    values = json.loads(text)
    _drop_retired_fields(values)
    for name in RECIPE_FIELDS:
      values.pop(name, None)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
      raise ConfigError(f"unknown config fields: {', '.join(unknown)}")
    for key, value in values.items():
      if isinstance(value, list):
        values[key] = tuple(value)
    base = PRESETS.get(values.get("name"))
    if base is not None:
      values = dict(dataclasses.asdict(base), **values)
    return cls(**values)


def _drop_retired_fields(values):
  """Removes fields of older configs that have no effect any more, renames
  those that another field now holds, and refuses those whose effect tfgc
  no longer has."""
  # standin_labels (a bool) became labeller="standin".
  if values.pop("standin_labels", False):
    values["labeller"] = "standin"
  # warmup_steps switched the adversarial terms on within a run; warm-up is
  # its own run now (docs/training.md).
  warmup_steps = values.pop("warmup_steps", 0)
  if warmup_steps:
    raise ConfigError(
        f"this run was saved with warmup_steps={warmup_steps}, which tfgc "
        "no longer has: warm up in a run of its own (--recipe=warmup) and "
        "continue with --init_from")


@dataclasses.dataclass(frozen=True)
class Recipe(_Saved):
  """How a model is trained: loss weights, optimizer and weight average.

      L = gan_weight·L_GAN + λ_mse·MSE + λ_fm·FM + λ_p·perceptual + β·bpp

  Each field's help (metadata) is its `tfgc train` flag's help text; the
  flag's default is the value of the named recipe --recipe picks
  (`RECIPES`). The class defaults are the "base" recipe.
  """

  lambda_mse: float = dataclasses.field(default=10.0, metadata=dict(
      help="λ, weight of the MSE term (images in [0, 1])."))
  lambda_feature_matching: float = dataclasses.field(
      default=10.0, metadata=dict(help="Weight of D's feature matching."))
  lambda_perceptual: float = dataclasses.field(default=0.0, metadata=dict(
      help="Weight of the perceptual term (LPIPS), 0 if unused."))
  perceptual_network: str = dataclasses.field(
      default="vgg16", metadata=dict(
          choices=PERCEPTUAL_NETWORKS,
          help="LPIPS backbone of the perceptual term: vgg16 (the "
               "published loss) or alexnet (about 15x cheaper on a CPU)."))
  beta: float = dataclasses.field(default=0.0, metadata=dict(
      help="β, weight of the rate H(ŵ) in bits per pixel (paper: 0, the "
           "rate set by C and L only)."))
  gan_weight: float = dataclasses.field(default=1.0, metadata=dict(
      help="Weight of the LSGAN generator term. With it and "
           "--lambda_feature_matching both 0 the run is a warm-up "
           "(distortion and rate only; D is neither run nor updated)."))
  learning_rate: float = dataclasses.field(
      default=2e-4, metadata=dict(help="Adam step size of both optimizers."))
  learning_rate_drop_step: int = dataclasses.field(default=0, metadata=dict(
      help="From this global step on, both step sizes are a tenth of "
           "--learning_rate (HiFiC's decay for the last part of a run; "
           "applied by tfgc train, callbacks.LearningRate); 0: never."))
  adam_beta_1: float = dataclasses.field(
      default=0.5, metadata=dict(help="Adam β1 of both optimizers."))
  weight_average: float = dataclasses.field(default=0.0, metadata=dict(
      help="Decay of a moving average of the E, G, F and entropy-model "
           "weights that validation and export use, e.g. 0.999; 0 = none. "
           "Switching it on or off changes the checkpoint's layout: a run "
           "resumes only with it on or off as it started."))

  def __post_init__(self):
    def need(condition, message):
      if not condition:
        raise ConfigError(f"recipe: {message}")
    need(self.perceptual_network in PERCEPTUAL_NETWORKS,
         f"perceptual_network must be one of {PERCEPTUAL_NETWORKS}")
    for field in ("lambda_mse", "lambda_feature_matching",
                  "lambda_perceptual", "beta", "gan_weight"):
      need(getattr(self, field) >= 0, f"{field} must be >= 0")
    need(self.learning_rate > 0, "learning_rate must be > 0")
    need(self.learning_rate_drop_step >= 0,
         "learning_rate_drop_step must be >= 0 (0: never)")
    need(0 <= self.adam_beta_1 < 1, "adam_beta_1 must be in [0, 1)")
    need(0 <= self.weight_average < 1, "weight_average must be in [0, 1)")

  def learning_rate_at(self, step):
    """Both optimizers' step size at global step `step`."""
    if self.learning_rate_drop_step and step >= self.learning_rate_drop_step:
      return self.learning_rate / 10
    return self.learning_rate

  @property
  def adversarial(self) -> bool:
    """Whether training runs and updates D (an adversarial term weighs)."""
    return self.gan_weight > 0 or self.lambda_feature_matching > 0

  @classmethod
  def from_json(cls, text: str) -> "Recipe":
    """Parses a recipe saved by `to_json`, or the recipe fields of a config
    saved before the split (its other fields are left out; missing
    fields take the defaults)."""
    values = json.loads(text)
    return cls(**{name: values[name] for name in RECIPE_FIELDS
                  if name in values})


RECIPE_FIELDS = tuple(f.name for f in dataclasses.fields(Recipe))
# Config fields added since released models' ids were computed, at the
# value that behaves as before: left out of `Config.identity_json` then.
ADDED_FIELDS = {"realism_dial": False, "colour_context": 0}


# A CPU model of a few million parameters. Channel norm and resize + conv
# upsampling: instance statistics of training crops do not match those of
# full photos, and transposed convs leave a checkerboard early in training
# (docs/DESIGN.md, "Pitfalls").
_SMALL = Config(
    name="small",
    encoder_filters=(16, 32, 64, 128, 256),
    generator_filters=(160, 80, 40, 20, 10),
    residual_blocks=5,
    semantic_filters=(8, 16, 32, 64, 64),
    discriminator_filters=(32, 64, 128, 256),
    discriminator_scales=3,
    normalization="channel",
    upsampling="resize",
)

# `small` with the rate spent where the picture needs it: a scale hyperprior
# over 32 latent channels of 15 levels (the bound, 0.49 bpp, never binds; β
# sets the rate), and E and G about 1.5x wider where they see
# full-resolution pixels. About 1.5x small's training step.
_MEDIUM = _SMALL.replace(
    name="medium",
    latent_channels=32,
    centers=tuple(range(-7, 8)),
    encoder_filters=(24, 48, 96, 192, 256),
    generator_filters=(192, 128, 64, 32, 16),
    entropy_model="hyperprior",
)

PRESETS = {
    # docs/DESIGN.md, "The method", at paper scale: about 160 M parameters
    # in E + G.
    "paper": Config(name="paper"),
    "small": _SMALL,
    "medium": _MEDIUM,
    # `medium` with GDN instead of channel norm and ReLU: the same kernels
    # and widths, but each pixel keeps its magnitude through the
    # transforms (channel norm rescales every pixel's features to unit
    # variance).
    "medium-gdn": _MEDIUM.replace(name="medium-gdn", normalization="gdn"),
    # For tests: builds and trains in seconds.
    "tiny": Config(
        name="tiny",
        latent_channels=4,
        encoder_filters=(4, 8, 8, 16, 16),
        generator_filters=(16, 8, 8, 8, 4),
        residual_blocks=1,
        semantic_filters=(4, 4, 8, 8, 8),
        noise_channels=2,
        discriminator_filters=(4, 8),
        discriminator_scales=2,
        normalization="channel",
        upsampling="resize",
        hyperprior_channels=4,
    ),
}


_WARMUP = Recipe(gan_weight=0.0, lambda_feature_matching=0.0)

RECIPES = {
    # The bundled models' adversarial stage (scripts/train_default_models.sh,
    # warm-started from a warm-up), and `tfgc train`'s default: what fine-tuning
    # a bundled model continues with. LPIPS-AlexNet: LPIPS-VGG16 costs ~15x
    # more per step on a CPU. Validation and export use a moving average of
    # the E/G weights: on the 42 validation photos it gave LPIPS-Alex
    # 0.298-0.311 over 16,000 steps where the latest weights moved between
    # 0.316 and 0.341 (docs/training-ledger.md).
    "adversarial": Recipe(lambda_mse=10.0, lambda_perceptual=1.0,
                          perceptual_network="alexnet", gan_weight=0.15,
                          lambda_feature_matching=1.0, weight_average=0.999),
    # The bundled models' warm-up stage: distortion (MSE) and rate only; no
    # adversarial term, so D is neither run nor updated.
    "warmup": _WARMUP,
    # The "structure first" rate-distortion backbone of issue 28
    # (scripts/train_candidates.sh): the warm-up with λ_MSE = 150 on [0, 1]
    # images (HiFiC's k_M on [0, 255] is ≈ 152 there), Adam β1 0.9 (no GAN)
    # and a weight average. β (--beta) sets the rate.
    "rd": _WARMUP.replace(lambda_mse=150.0, adam_beta_1=0.9,
                          weight_average=0.999),
    # The class defaults: LSGAN 1, feature matching 10, λ_MSE 10, no
    # perceptual term, no weight average (`tfgc train`'s recipe before it had
    # --recipe, and `training.train`'s default).
    "base": Recipe(),
}


def preset(name: str) -> Config:
  """The named preset; ConfigError lists the known names otherwise."""
  return _named(PRESETS, "preset", name)


def recipe_preset(name: str) -> Recipe:
  """The named recipe; ConfigError lists the known names otherwise."""
  return _named(RECIPES, "recipe", name)


def _named(table, kind, name):
  if name not in table:
    raise ConfigError(
        f"unknown {kind} {name!r}; choose one of {', '.join(table)}")
  return table[name]
