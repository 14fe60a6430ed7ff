"""The generative compression model (GC and SC) as a Keras model: E, q,
entropy model, G (F in SC) and D, trained with the adversarial objective
of docs/DESIGN.md, "The method", with the weights of a
`tfgc.config.Recipe`:

    L = gan_weight·L_GAN + λ_mse·MSE + λ_fm·FM + λ_p·perceptual + β·bpp

`train_step` makes one E/G (+ entropy model) update and one D update. A
recipe with no adversarial weight (`Recipe.adversarial` false) is a warm-up:
only distortion and rate are optimised and D is neither run nor updated.
The default models warm up in one run and continue adversarially in a
second (scripts/train_default_models.sh); the choice is fixed per run, so
no optimizer update sits inside a `tf.cond`, which distribution strategies
cannot synchronise.
"""

import collections
import contextlib

import tensorflow as tf

from tfgc import entropy, losses
from tfgc.colour_context import CHANNELS as CONTEXT_CHANNELS
from tfgc.config import PRECISIONS, STRIDE, Recipe
from tfgc.lpips import LPIPS
from tfgc.networks import (Encoder, Generator, MultiScaleDiscriminator,
                           RealismModulation, SemanticEncoder,
                           colour_context_levels, colour_context_per_cell,
                           latent_keep_mask, modulated_widths,
                           one_hot_labels, pad_to_stride,
                           padded_one_hot_labels, painted_colours,
                           run_generator, to_float, with_noise)
from tfgc.quantizer import FixedCenterQuantizer
from tfgc.weight_average import WeightAverage

Reconstruction = collections.namedtuple(
    "Reconstruction",
    ["latents", "bits", "bits_per_pixel", "images", "preserved", "realism"])
Reconstruction.__doc__ = """Output of `GenerativeCompressionModel.call`.

latents: ŵ, float32 [B, ceil(H/16), ceil(W/16), C] holding centres (zero
  at the positions SC does not transmit).
bits: rate of ŵ in bits, float32 [B]: its information under the entropy
  model's pmf over the centres. Exact for the factorized prior in training
  and inference (ŵ is already discrete); the hyperprior's side
  information z is noisy in training. The range coder's real size is
  measured on the exported model.
bits_per_pixel: bits / (H·W), float32 [B].
images: x̂, float32 [B, H, W, 3] in [0, 1].
preserved: float32 [B, H, W, 1] in {0, 1}, the pixels whose latents are
  transmitted (all ones in GC); distortion is measured there only.
realism: r, float32 [B] in [0, 1], the realism weight G decoded with and
  the loss weighs the realism terms by (all ones without the dial).
"""

Inputs = collections.namedtuple("Inputs",
                                ["images", "labels", "synthesis_mask"])
Inputs.__doc__ = """A batch as the model reads it (`unpack_inputs`).

images: float32 [B, H, W, 3] in [0, 1].
labels: int [B, H, W] class ids, or None when the config uses none.
synthesis_mask: bool [B, H, W], True = synthesise (SC), or None.
"""


def unpack_inputs(inputs):
  """A uint8/float image batch, or a dict with "image" and optionally
  "labels" and "synthesis_mask" -> `Inputs`."""
  if isinstance(inputs, dict):
    return Inputs(to_float(inputs["image"]), inputs.get("labels"),
                  inputs.get("synthesis_mask"))
  return Inputs(to_float(inputs), None, None)

@contextlib.contextmanager
def _dtype_policy(name):
  """Keras layers created inside compute in the precision `name`."""
  previous = tf.keras.mixed_precision.global_policy()
  tf.keras.mixed_precision.set_global_policy(name)
  try:
    yield
  finally:
    tf.keras.mixed_precision.set_global_policy(previous)


def _to_float32(structure):
  return tf.nest.map_structure(lambda t: tf.cast(t, tf.float32), structure)

# What training logs. g_loss is the objective of E and G, eq. (4): the
# distortion and adversarial terms + β·bpp (with the realism dial, the
# perceptual and adversarial terms weighted by each example's r). The step
# minimises it through one loss, those terms + bpp, with the rate's
# gradient scaled by β on its way to E (`call`), so that at weight 1 the
# bpp also trains the entropy model fully: the two agree in every gradient
# E and G receive.
METRICS = ("g_loss", "d_loss", "gan", "feature_matching", "perceptual", "mse",
           "psnr", "bpp")


def scale_gradient(x, scale):
  """Returns `x` exactly, with its gradient multiplied by `scale`."""
  return tf.stop_gradient(x) + scale * (x - tf.stop_gradient(x))


class GenerativeCompressionModel(tf.keras.Model):
  """Generative compression: x -> E -> q -> ŵ -> G -> x̂.

  GC (config.mode "gc") takes image batches. SC ("sc") takes dicts of
  "image", "labels" (class ids [B, H, W]) and "synthesis_mask" (bool
  [B, H, W], True = synthesise): ŵ is zeroed and not counted where
  nothing is preserved, and G also receives F(one-hot labels). With
  `config.discriminator_labels` ("D+") D sees the labels too, and GC
  takes dicts of "image" and "labels".

  Args:
    config: a `tfgc.config.Config`, the model.
    recipe: a `tfgc.config.Recipe`, how it trains (default: `Recipe()`).
    perceptual_loss: callable (images, reconstructions) -> float32 [B],
      both float32 [B, H, W, 3] in [0, 1], weighted by
      `recipe.lambda_perceptual`; default, when that weight is > 0: LPIPS
      with `recipe.perceptual_network`.
    precision: one of `PRECISIONS`, the compute precision of the networks
      in training (variables are float32 either way, so checkpoints do not
      depend on it).
  """

  def __init__(self, config, recipe=None, perceptual_loss=None,
               precision="float32", **kwargs):
    super().__init__(**kwargs)
    if precision not in PRECISIONS:
      raise ValueError(f"unknown precision {precision!r}; choose from "
                       f"{', '.join(PRECISIONS)}")
    self.config = config
    self.recipe = recipe = recipe or Recipe()
    self.precision = precision
    self.quantizer = FixedCenterQuantizer(config.centers, name="quantizer")
    self.entropy_model = entropy.entropy_model(config)
    with _dtype_policy(precision):
      self.encoder = Encoder(config, name="encoder")
      self.generator = Generator(config, name="generator")
      self.realism_modulation = (
          RealismModulation(modulated_widths(config),
                            name="realism_modulation")
          if config.realism_dial else None)
      self.semantic_encoder = (
          SemanticEncoder(config, name="semantic_encoder")
          if config.selective else None)
      self.discriminator = MultiScaleDiscriminator(config,
                                                   name="discriminator")
      if perceptual_loss is None and recipe.lambda_perceptual > 0:
        perceptual_loss = LPIPS(recipe.perceptual_network,
                                name="perceptual")
    self.perceptual_loss = perceptual_loss
    self.trackers = {name: tf.keras.metrics.Mean(name=name)
                     for name in METRICS}
    self.generator_optimizer = None
    self.discriminator_optimizer = None
    dummy = self.dummy_inputs()
    self(dummy)
    unpacked = unpack_inputs(dummy)
    self.discriminate(unpacked.images, unpacked.labels)
    # Without an average the model tracks no such object, so checkpoints
    # of runs without one keep their layout.
    self.weight_average = (
        WeightAverage(self.generator_variables, recipe.weight_average)
        if recipe.weight_average > 0 else None)

  def dummy_inputs(self, size=STRIDE):
    """A batch of one blank size x size input of this model's kind."""
    image = tf.zeros((1, size, size, 3))
    if not self.config.uses_labels:
      return image
    inputs = dict(image=image, labels=tf.zeros((1, size, size), tf.uint8))
    if self.config.selective:
      inputs["synthesis_mask"] = tf.zeros((1, size, size), tf.bool)
    return inputs

  def inference_model(self):
    """What validation and export run: this model if it computes in
    float32 and keeps no weight average, else a float32 copy (no
    optimizers, sharing the perceptual loss) with the current weights, or
    with the averaged ones where the recipe keeps an average."""
    if self.precision == "float32" and self.weight_average is None:
      return self
    copy = GenerativeCompressionModel(
        self.config, self.recipe.replace(weight_average=0.0),
        perceptual_loss=self.perceptual_loss)
    for name in ("encoder", "generator", "realism_modulation",
                 "semantic_encoder", "entropy_model", "discriminator"):
      if getattr(self, name) is not None:
        getattr(copy, name).set_weights(getattr(self, name).get_weights())
    if self.weight_average is not None:
      self.weight_average.copy_to(copy.generator_variables)
    return copy

  @property
  def generator_variables(self):
    """Variables of E, G (with its realism dial), F and the entropy model:
    one optimizer group."""
    optional = [layer.trainable_variables for layer in
                (self.realism_modulation, self.semantic_encoder)
                if layer is not None]
    return (self.encoder.trainable_variables
            + self.generator.trainable_variables + sum(optional, [])
            + self.entropy_model.trainable_variables)

  @property
  def discriminator_variables(self):
    return self.discriminator.trainable_variables

  def check_variable_groups(self):
    """Asserts each trainable variable is in exactly one optimizer group."""
    grouped = [v.ref() for v in
               self.generator_variables + self.discriminator_variables]
    every = [v.ref() for v in self.trainable_variables]
    if len(grouped) != len(set(grouped)) or set(grouped) != set(every):
      raise AssertionError(
          "optimizer groups must cover every trainable variable exactly once")

  def analysis(self, images, synthesis_mask=None, training=False):
    """x -> E -> q, and in SC the latent keep mask.

    Args:
      images: float32 [B, H, W, 3] in [0, 1], any H and W.
      synthesis_mask: [B, H, W] bool or integer, nonzero = synthesise (SC
        only).
      training: whether E runs in training mode.

    Returns:
      ŵ: float32 [B, ceil(H/16), ceil(W/16), C], quantizer centres, zero
        at the positions SC does not transmit.
      keep: float32 [B, ceil(H/16), ceil(W/16), 1] in {0, 1}, the
        positions whose latents are transmitted; None in GC.
    """
    w = tf.cast(self.encoder(pad_to_stride(images, STRIDE), training=training),
                tf.float32)
    w_hat = self.quantizer(w)
    if not self.config.selective:
      return w_hat, None
    keep = latent_keep_mask(synthesis_mask, STRIDE)
    return w_hat * keep, keep

  def synthesis(self, latents, image_shape, labels=None, seed=None,
                realism=None, training=False, colour_context=None):
    """ŵ (+ F(labels) in SC, + the colour context, + noise) -> G -> x̂
    cropped to the image.

    Args:
      latents: ŵ, float32 [B, h, w, C] with h = ceil(H/16), w = ceil(W/16).
      image_shape: int32 [2], (H, W).
      labels: integer class ids [B, H, W] (SC only).
      colour_context: with `Config.colour_context`, G's context in the
        painted cells, float32 [B, h, w, 4] (`networks.painted_colours`);
        None: every cell kept.
      seed: int32 [], the noise seed (decoding is then a pure function of
        its inputs); None draws fresh noise (training).
      realism: r, float32 [B] in [0, 1], for a model with the realism dial
        (0: the MSE-trained decode, 1: the fully generative one); default
        1. Ignored without the dial.
      training: whether F and G run in training mode.

    Returns:
      x̂: float32 [B, H, W, 3] in [0, 1].
    """
    generator_input = latents
    if self.config.selective:
      one_hot = padded_one_hot_labels(labels, self.config.num_classes, STRIDE)
      semantics = tf.cast(self.semantic_encoder(one_hot, training=training),
                          tf.float32)
      generator_input = tf.concat([latents, semantics], -1)
    if self.config.colour_context:
      if colour_context is None:  # Every cell kept: no context anywhere.
        colour_context = tf.zeros(tf.concat(
            [tf.shape(latents)[:3], [CONTEXT_CHANNELS]], 0))
      generator_input = tf.concat([generator_input, colour_context], -1)
    if self.realism_modulation is not None and realism is None:
      realism = tf.ones(tf.shape(latents)[:1])
    x_hat = run_generator(
        self.generator,
        with_noise(generator_input, self.config.noise_channels, seed),
        self.realism_modulation, realism, training=training)
    return tf.cast(x_hat, tf.float32)[:, :image_shape[0], :image_shape[1], :]

  def call(self, inputs, training=False, realism=None):
    """An image batch (uint8 or float32 [B, H, W, 3]) or, with labels, a
    dict (see the class doc) -> `Reconstruction`: `analysis`, the rate of
    ŵ, `synthesis` with fresh noise. With the realism dial, `realism` (r,
    float32 [B]) defaults to r ~ U[0, 1] per example in training and to 1
    otherwise; without it, r is 1 (the loss weights every realism term
    fully)."""
    inputs = unpack_inputs(inputs)
    shape = tf.shape(inputs.images)
    if realism is None:
      batch = shape[:1]
      realism = (tf.random.uniform(batch)
                 if training and self.realism_modulation is not None
                 else tf.ones(batch))
    w_hat, keep = self.analysis(inputs.images, inputs.synthesis_mask,
                                training=training)
    # The rate trains the entropy model at full weight but reaches E only
    # with weight β (β = 0: rate controlled by C and L alone, as the paper).
    bits = self.entropy_model(scale_gradient(w_hat, self.recipe.beta),
                              keep=keep, training=training)
    colours = None
    if self.config.colour_context:
      cells = self.config.colour_context
      colours = painted_colours(colour_context_per_cell(
          colour_context_levels(inputs.images, keep, cells), cells,
          tf.shape(keep)[1:3]), keep)
    x_hat = self.synthesis(w_hat, shape[1:3], inputs.labels,
                           realism=realism, training=training,
                           colour_context=colours)
    pixels = tf.cast(shape[1] * shape[2], tf.float32)
    if keep is None:
      preserved = tf.ones_like(x_hat[..., :1])
    else:
      preserved = tf.repeat(tf.repeat(keep, STRIDE, 1), STRIDE, 2)
      preserved = preserved[:, :shape[1], :shape[2], :]
    return Reconstruction(w_hat, bits, bits / pixels, x_hat, preserved,
                          tf.cast(realism, tf.float32))

  def discriminate(self, images, labels):
    """D on `images` float32 [B, H, W, 3], with `labels` (class ids
    [B, H, W]) when the config's D sees them."""
    one_hot = None
    if self.config.discriminator_labels:
      one_hot = one_hot_labels(labels, self.config.num_classes)
    return _to_float32(self.discriminator(images, one_hot, training=True))

  def compile(self, generator_optimizer=None, discriminator_optimizer=None,
              **kwargs):
    """Two Adam optimizers (the recipe's learning rate and β1) unless
    given.

    Keras optimizers bind to the variables they first see, so E/G and D
    each get their own instance, built here on their group.
    """
    super().compile(**kwargs)
    def adam():
      return tf.keras.optimizers.Adam(
          self.recipe.learning_rate, beta_1=self.recipe.adam_beta_1)
    self.generator_optimizer = generator_optimizer or adam()
    self.discriminator_optimizer = discriminator_optimizer or adam()
    self.check_variable_groups()
    self.generator_optimizer.build(self.generator_variables)
    self.discriminator_optimizer.build(self.discriminator_variables)

  @property
  def metrics(self):
    return list(self.trackers.values())

  # The steps have no tensor-dependent Python control flow, so AutoGraph
  # has nothing to convert: without it the first step of a run traces in
  # about two thirds of the CPU time (measured on the tiny preset).
  @tf.autograph.experimental.do_not_convert
  def train_step(self, inputs):
    """One E/G update and, if the recipe is adversarial, one D update.
    inputs: see `call`. Returns the running means of `METRICS`."""
    unpacked = unpack_inputs(inputs)
    x = unpacked.images
    adversarial = self.recipe.adversarial
    # One forward pass serves both updates: E, G and D (on x and on x̂) run
    # once per step, where a D step of its own would run D twice more. Each
    # tape is differentiated only w.r.t. its own variable group.
    with tf.GradientTape() as generator_tape, \
        tf.GradientTape() as discriminator_tape:
      reconstruction = self(inputs, training=True)
      terms = self._distortion_terms(x, reconstruction)
      terms.update(self._adversarial_terms(unpacked, reconstruction)
                   if adversarial else self._no_adversarial_terms(terms))
      objective = self._generator_loss(terms)
      terms["g_loss"] = objective + self.recipe.beta * terms["bpp"]
      # The rate's gradient is already scaled by β on its way to E (see
      # `call`); at weight 1 here it trains the entropy model fully.
      generator_loss = tf.nn.compute_average_loss(objective + terms["bpp"])
      discriminator_loss = tf.nn.compute_average_loss(terms["d_loss"])

    variables = self.generator_variables
    self.generator_optimizer.apply_gradients(
        zip(generator_tape.gradient(generator_loss, variables), variables))
    if self.weight_average is not None:
      self.weight_average.update()

    if adversarial:
      # Differentiated w.r.t. D's variables alone, D's loss takes x̂ as a
      # constant: the update on stop_gradient(x̂), without a third D pass.
      variables = self.discriminator_variables
      self.discriminator_optimizer.apply_gradients(zip(
          discriminator_tape.gradient(discriminator_loss, variables),
          variables))
    return self._report(terms)

  @tf.autograph.experimental.do_not_convert
  def test_step(self, inputs):
    x = unpack_inputs(inputs).images
    reconstruction = self(inputs, training=False)
    terms = self._distortion_terms(x, reconstruction)
    terms.update(self._no_adversarial_terms(terms))
    terms["g_loss"] = (self._generator_loss(terms)
                       + self.recipe.beta * terms["bpp"])
    return self._report(terms)

  def _distortion_terms(self, x, reconstruction):
    """MSE, perceptual, PSNR on the preserved pixels (all in GC): the
    synthesised ones are replaced by the original before comparing."""
    x_hat = tf.clip_by_value(reconstruction.images, 0.0, 1.0)
    preserved = reconstruction.preserved
    x_hat = preserved * x_hat + (1.0 - preserved) * x
    mse = losses.mean_squared_error(x, x_hat)
    if self.perceptual_loss is None:
      perceptual = tf.zeros_like(mse)
    else:
      perceptual = tf.cast(self.perceptual_loss(x, x_hat), tf.float32)
    # PSNR of the preserved pixels; an example with none has weight 0.
    fraction = tf.reduce_mean(preserved, axis=[1, 2, 3])
    preserved_mse = mse / tf.maximum(fraction, 1e-6)
    psnr = -10.0 * tf.experimental.numpy.log10(
        tf.maximum(preserved_mse, 1e-10))
    return dict(mse=mse, perceptual=perceptual, psnr=psnr,
                psnr_weight=tf.cast(fraction > 0, tf.float32),
                bpp=reconstruction.bits_per_pixel,
                realism=reconstruction.realism)

  def _generator_loss(self, terms):
    """Per-example E/G objective without the rate term, float32 [B]: the
    MSE, and the realism terms (perceptual, GAN, feature matching) weighted
    by each example's r (1 without the realism dial)."""
    c = self.recipe
    realism_terms = (c.lambda_perceptual * terms["perceptual"]
                     + c.gan_weight * terms["gan"]
                     + c.lambda_feature_matching * terms["feature_matching"])
    return c.lambda_mse * terms["mse"] + terms["realism"] * realism_terms

  def _adversarial_terms(self, unpacked, reconstruction):
    """E/G's LSGAN and feature-matching terms and D's LSGAN loss, from one
    D pass on x and one on x̂ (`unpacked`: `unpack_inputs`' result);
    float32 [B] each."""
    real = self.discriminate(unpacked.images, unpacked.labels)
    fake = self.discriminate(reconstruction.images, unpacked.labels)
    return dict(gan=losses.lsgan_generator_loss(fake),
                feature_matching=losses.feature_matching_loss(real, fake),
                d_loss=losses.lsgan_discriminator_loss(real, fake))

  @staticmethod
  def _no_adversarial_terms(terms):
    """Zeros [B] for the terms a warm-up (or evaluation) does not compute."""
    zeros = tf.zeros_like(terms["mse"])
    return dict(gan=zeros, feature_matching=zeros, d_loss=zeros)

  def _report(self, terms):
    for name, tracker in self.trackers.items():
      tracker.update_state(terms[name],
                           sample_weight=terms.get(f"{name}_weight"))
    return {name: tracker.result() for name, tracker in self.trackers.items()}
