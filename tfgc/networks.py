"""The networks of docs/DESIGN.md, "The method": encoder E, generator G,
semantic feature extractor F, discriminator D.

Images enter E and D as float32 in [0, 1]; G returns float32 in [0, 1];
label maps enter F and D one-hot (`one_hot_labels`).
"""

import numpy as np
import tensorflow as tf

from tfgc import colour_context
from tfgc.config import STRIDE
from tfgc.layers import ConvNormAct, ResidualBlock, Upsample


def conv_bias(config):
  """Whether the convs of E, F and G before a normalisation have a bias:
  `config.conv_bias`, and always beside GDN (which shifts nothing)."""
  return config.conv_bias or config.normalization == "gdn"


def discriminator_normalization(config):
  """D's normalisation: E's, except that a GDN model's D (a classifier,
  not a coding transform) normalises per channel as `small`'s does."""
  return "channel" if config.normalization == "gdn" else config.normalization


class Encoder(tf.keras.Sequential):
  """E: c7s1-k0, d-k1 ... d-k4, 3x3 conv to C channels (stride 16).

  No normalisation or activation on the last layer: the latent goes to the
  quantizer as it is. float32 [B, H, W, 3] -> [B, H/16, W/16, C].
  """

  def __init__(self, config, **kwargs):
    first, *downsampling = config.encoder_filters
    norm, bias = config.normalization, conv_bias(config)
    super().__init__(
        [tf.keras.layers.Rescaling(2.0, offset=-1.0),
         ConvNormAct(first, 7, norm=norm, bias=bias)]
        + [ConvNormAct(k, 3, strides=2, norm=norm, bias=bias)
           for k in downsampling]
        + [tf.keras.layers.Conv2D(config.latent_channels, 3, padding="same")],
        **kwargs)


class SemanticEncoder(tf.keras.Sequential):
  """F (SC): c7s1-k0, d-k1 ... d-k4 on the one-hot label map.

  float32 [B, H, W, num_classes] -> [B, H/16, W/16, k4], the semantic
  features G receives beside ŵ.
  """

  def __init__(self, config, **kwargs):
    first, *downsampling = config.semantic_filters
    norm, bias = config.normalization, conv_bias(config)
    super().__init__(
        [ConvNormAct(first, 7, norm=norm, bias=bias)]
        + [ConvNormAct(k, 3, strides=2, norm=norm, bias=bias)
           for k in downsampling],
        **kwargs)


class Generator(tf.keras.Sequential):
  """G: c3s1-k0, residual blocks, four 2x upsamplings, c7s1-3.

  float32 [B, h, w, C (+ F's features in SC, + the colour context with
  `Config.colour_context`) + noise channels] ->
  [B, 16h, 16w, 3] in [0, 1].
  """

  def __init__(self, config, **kwargs):
    width, *upsampling = config.generator_filters
    norm, bias = config.normalization, conv_bias(config)
    super().__init__(
        [ConvNormAct(width, 3, norm=norm, bias=bias)]
        + [ResidualBlock(width, norm=norm, bias=bias)
           for _ in range(config.residual_blocks)]
        + [Upsample(k, kind=config.upsampling, norm=norm, bias=bias)
           for k in upsampling]
        + [tf.keras.layers.Conv2D(3, 7, padding="same", activation="tanh"),
           tf.keras.layers.Rescaling(0.5, offset=0.5)],
        **kwargs)


class RealismModulation(tf.keras.layers.Layer):
  """The realism dial's path into G: r -> a scale and a shift per channel
  after each of G's residual blocks and upsamplings (FiLM), the same at
  every pixel.

  r (float32 [B] in [0, 1]) is embedded as r and sin/cos(2^k·π·r) for
  k < `frequencies` (Fourier features, as in Agustsson et al., CVPR 2023),
  mapped by a two-layer MLP, then projected per modulated block to γ and β
  ([B, 1, 1, width] each); a block's output x becomes x·(1 + γ) + β,
  computed in float32. The projections start at zero, so a model
  warm-started from one without the dial decodes exactly what that model
  decodes, at every r. Per-pixel independent: G's receptive field, and so
  the tile halos, are unchanged.

  widths: the channels of each modulated block's output, in G's order.
  """

  def __init__(self, widths, frequencies=6, hidden=64, **kwargs):
    super().__init__(**kwargs)
    self.frequencies = frequencies
    self.embedding = tf.keras.Sequential(
        [tf.keras.layers.Dense(hidden, activation="relu"),
         tf.keras.layers.Dense(hidden, activation="relu")], name="embedding")
    self.projections = [
        tf.keras.layers.Dense(2 * width, kernel_initializer="zeros",
                              name=f"block_{i}")
        for i, width in enumerate(widths)]

  def fourier_features(self, realism):
    """float32 [B] -> [B, 1 + 2·frequencies]."""
    r = tf.reshape(tf.cast(realism, tf.float32), [-1, 1])
    angles = r * (np.pi * 2.0 ** np.arange(self.frequencies, dtype=np.float32))
    return tf.concat([r, tf.sin(angles), tf.cos(angles)], axis=-1)

  def call(self, realism):
    """float32 [B] -> one (γ, β) pair per block, float32 [B, 1, 1, width]
    each."""
    embedded = self.embedding(self.fourier_features(realism))
    pairs = []
    for projection in self.projections:
      film = tf.cast(projection(embedded), tf.float32)[:, None, None, :]
      pairs.append(tuple(tf.split(film, 2, -1)))
    return pairs


def modulated_widths(config):
  """The output channels of the G blocks the realism dial modulates: each
  residual block's, then each upsampling's."""
  width, *upsampling = config.generator_filters
  return [width] * config.residual_blocks + list(upsampling)


def run_generator(generator, inputs, modulation=None, realism=None,
                  training=False):
  """G on `inputs`, its residual blocks' and upsamplings' outputs
  modulated by the realism dial when `modulation` (a `RealismModulation`)
  and `realism` (float32 [B]) are given; G alone otherwise.
  [B, h, w, channels] -> [B, 16h, 16w, 3]."""
  if modulation is None:
    return generator(inputs, training=training)
  pairs = iter(modulation(realism))
  x = inputs
  for layer in generator.layers:
    x = layer(x, training=training)
    if isinstance(layer, (ResidualBlock, Upsample)):
      gamma, beta = next(pairs)
      x = tf.cast(tf.cast(x, tf.float32) * (1.0 + gamma) + beta, x.dtype)
  return x


class PatchDiscriminator(tf.keras.layers.Layer):
  """One scale of D: Ck layers (4x4, stride 2, LeakyReLU 0.2), 1-channel out.

  The first Ck has no normalisation (pix2pixHD). Returns the list of every
  layer's output; the last one, float32 [B, h, w, 1], is the real/fake map.
  """

  def __init__(self, filters, norm, **kwargs):
    super().__init__(**kwargs)
    self.blocks = [
        ConvNormAct(k, 4, strides=2, norm=norm if i else None,
                    activation="leaky_relu")
        for i, k in enumerate(filters)]
    self.output_conv = tf.keras.layers.Conv2D(1, 4, padding="same")

  def call(self, x):
    features = []
    for block in self.blocks:
      x = block(x)
      features.append(x)
    features.append(self.output_conv(x))
    return features


class MultiScaleDiscriminator(tf.keras.layers.Layer):
  """D: identical patch discriminators on the image at scales 1, 1/2, ...

  float32 [B, H, W, 3] in [0, 1] (and with `labels`, the one-hot label
  map float32 [B, H, W, num_classes], concatenated: "D+") -> one feature
  list per scale (see `PatchDiscriminator`). Used only in training; never
  exported.
  """

  def __init__(self, config, **kwargs):
    super().__init__(**kwargs)
    self.scales = [
        PatchDiscriminator(config.discriminator_filters,
                           discriminator_normalization(config),
                           name=f"scale_{i}")
        for i in range(config.discriminator_scales)]
    self.downsample = tf.keras.layers.AveragePooling2D(3, 2, padding="same")

  def call(self, images, labels=None):
    x = images * 2.0 - 1.0
    if labels is not None:
      # Keras casts only the first argument to the compute dtype (bfloat16
      # under mixed precision).
      x = tf.concat([x, tf.cast(labels, x.dtype)], axis=-1)
    outputs = []
    for i, discriminator in enumerate(self.scales):
      if i:
        x = self.downsample(x)
      outputs.append(discriminator(x))
    return outputs


def to_float(images):
  """Images as E and D take them: uint8 in [0, 255] -> float32 in [0, 1];
  float values pass through as float32. Tensors or arrays, any shape."""
  images = tf.convert_to_tensor(images)
  if images.dtype == tf.uint8:
    return tf.cast(images, tf.float32) / 255.0
  return tf.cast(images, tf.float32)


def to_uint8(images):
  """Decoded images as files hold them: float in [0, 1] -> uint8 in
  [0, 255], rounded, out-of-range values saturated. Any shape."""
  return tf.saturate_cast(tf.round(images * 255.0), tf.uint8)


def one_hot_labels(labels, num_classes):
  """Class ids, int [B, H, W] -> float32 [B, H, W, num_classes]."""
  return tf.one_hot(tf.cast(labels, tf.int32), num_classes, dtype=tf.float32)


def padded_one_hot_labels(labels, num_classes, stride):
  """F's input: class ids int [B, H, W], padded like the image
  (`pad_to_stride`) -> float32 [B, H', W', num_classes]."""
  return one_hot_labels(pad_to_stride(labels[..., None], stride)[..., 0],
                        num_classes)


def latent_keep_mask(synthesis_mask, stride):
  """Pixels to synthesise -> latent positions to transmit.

  A latent position is kept (1) if any pixel of its stride x stride cell
  is to be preserved, so every preserved pixel has its latent.
  bool or number [B, H, W] (nonzero = synthesise) -> float32
  [B, ceil(H/stride), ceil(W/stride), 1] in {0, 1}.
  """
  preserve = 1.0 - tf.cast(tf.cast(synthesis_mask, tf.bool), tf.float32)
  preserve = pad_to_stride(preserve[..., None], stride)
  return tf.nn.max_pool2d(preserve, stride, stride, "VALID")


def colour_context_levels(images, keep, cells):
  """`colour_context.block_levels` of a batch, in TensorFlow: images
  [B, H, W, 3], uint8 or float32 in [0, 1] (rounded to 1/255), keep
  float32 [B, h, w, 1] in {0, 1} (`latent_keep_mask`) -> int32
  [B, bh, bw, 3] in 0..31, each block's mean over its painted pixels, zero
  in blocks without a painted cell."""
  side = cells * STRIDE
  if images.dtype != tf.uint8:
    images = tf.round(tf.clip_by_value(images, 0.0, 1.0) * 255.0)
  values = pad_to_stride(tf.cast(images, tf.int32), side)
  shape = tf.shape(values)
  rows, columns = shape[1] // side, shape[2] // side
  grid = tf.shape(keep)[1:3]
  painted = tf.pad(tf.cast(1.0 - keep, tf.int32),
                   [[0, 0], [0, rows * cells - grid[0]],
                    [0, columns * cells - grid[1]], [0, 0]])
  mask = tf.repeat(tf.repeat(painted, STRIDE, 1), STRIDE, 2)
  sums = tf.reduce_sum(tf.reshape(
      values * mask, [shape[0], rows, side, columns, side, 3]), axis=[2, 4])
  counts = tf.reduce_sum(tf.reshape(
      mask, [shape[0], rows, side, columns, side, 1]), axis=[2, 4])
  return sums // (colour_context.STEP * tf.maximum(counts, 1))


def colour_context_per_cell(levels, cells, latent_shape):
  """`colour_context.per_cell` of a batch, in TensorFlow: block levels
  [B, bh, bw, 3] -> [B, h, w, 3] for the latent grid (h, w)."""
  expanded = tf.repeat(tf.repeat(levels, cells, 1), cells, 2)
  return expanded[:, :latent_shape[0], :latent_shape[1]]


def painted_colours(cell_levels, keep):
  """G's colour context: each cell's block levels int [B, h, w, 3] and
  keep float32 [B, h, w, 1] -> float32 [B, h, w, colour_context.CHANNELS]:
  the block's mean colour in [0, 1] and 1 in painted cells, zeros in kept
  ones (their latents say more)."""
  painted = 1.0 - keep
  colours = (tf.cast(cell_levels, tf.float32) + 0.5) / colour_context.LEVELS
  return tf.concat([colours * painted, painted], -1)


def pad_to_stride(images, stride):
  """Pads H and W up to multiples of `stride` by repeating the last row/col.

  Works for any H, W >= 1 (reflection would need H, W > padding).
  [B, H, W, ...] -> [B, ceil(H/stride)*stride, ceil(W/stride)*stride, ...].
  """
  def edge_indices(size):
    padded = (size + stride - 1) // stride * stride
    return tf.minimum(tf.range(padded), size - 1)
  shape = tf.shape(images)
  images = tf.gather(images, edge_indices(shape[1]), axis=1)
  return tf.gather(images, edge_indices(shape[2]), axis=2)


def with_noise(w_hat, channels, seed=None):
  """Concatenates r ~ N(0, 1) with `channels` channels to ŵ.

  `w_hat`: float32 [B, h, w, C] -> [B, h, w, C + channels]. With a `seed`
  (int32 scalar) the noise is a pure function of the seed and the shape, so
  decoding is deterministic; without one it is fresh (training).
  """
  if not channels:
    return w_hat
  shape = tf.concat([tf.shape(w_hat)[:-1], [channels]], 0)
  if seed is None:
    noise = tf.random.normal(shape, dtype=w_hat.dtype)
  else:
    noise = tf.random.stateless_normal(
        shape, seed=tf.stack([tf.cast(seed, tf.int64), 0]), dtype=w_hat.dtype)
  return tf.concat([w_hat, noise], axis=-1)
