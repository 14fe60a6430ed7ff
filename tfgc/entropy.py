"""Entropy models for H(ŵ): the training-time rate and the range coder.

ŵ only ever takes the quantizer's L centres (consecutive integers), so both
models put all their probability on those L values: a learned density p is
turned into a pmf over the centres, P(c) = p(c) / Σ_j p(c_j), where p is
the density of the prior convolved with unit-width uniform noise (the
probability of the bin around c). Coding a symbol then costs
-log2 P(ŵ) bits, rate estimate and range coder agree, and no probability is
wasted on values the quantizer never produces, so a model fitted to its
data stays under the dim(ŵ)·log2(L) bound.

In SC, a mask `keep` (float32 [B, h, w, 1] in {0, 1}) marks the latent
positions that are transmitted: the rate counts only those, and the coders
code only those (gathered in row-major order), so the bitstream shrinks
with the synthesised area.

Each model is a Keras layer whose `call` returns the rate of ŵ in bits, and
whose `make_coder` snapshots the current weights into a `tf.Module` that
range-codes ŵ with TFC. The snapshot holds its coding tables as variables,
so it is exported with the SavedModel; a coder is made after training, never
kept in sync by hand.
"""

import math

import tensorflow as tf
import tensorflow_compression as tfc

from tfgc import pinned

# Scale table of the hyperprior's conditional Gaussians (Ballé et al. 2018).
SCALE_MIN, SCALE_MAX, NUM_SCALES = 0.11, 256.0, 64
RANGE_CODER_PRECISION = 12
# Probability of the range coder's escape symbol (never used: ŵ has no
# values outside the centres); the coder rounds it up to 2^-precision.
ESCAPE_PROBABILITY = 2.0 ** -16
INITIAL_SCALE_INDEX = 18.0  # _scale_fn(18) ≈ 1.0


def _scale_fn(index):
  log_min = math.log(SCALE_MIN)
  step = (math.log(SCALE_MAX) - log_min) / (NUM_SCALES - 1)
  return tf.exp(log_min + step * index)


def _centers_like(w_hat, centers):
  """The centres as float [L, 1, ..., 1], broadcasting against `w_hat`."""
  return tf.reshape(tf.constant(centers, w_hat.dtype),
                    [-1] + [1] * w_hat.shape.rank)


def support_bits(distribution, w_hat, centers):
  """-log2 P(ŵ) per element with P restricted to the centres.

  `distribution` has batch shape broadcasting to `w_hat`'s shape; its
  `prob(c)` is the probability of the unit bin around c. Differentiable
  w.r.t. the distribution's parameters and (through the density) w.r.t. ŵ.
  """
  support = tf.reduce_sum(
      distribution.prob(_centers_like(w_hat, centers)), axis=0)
  # The range coder gives no symbol less than 2^-precision.
  probability = tfc.lower_bound(distribution.prob(w_hat) / support,
                                2.0 ** -RANGE_CODER_PRECISION)
  return -tf.math.log(probability) / math.log(2.0)


def support_tables(pmf, first_center):
  """Range coder tables for pmfs over the centres.

  Args:
    pmf: float [N, L], each row a distribution over the L centres.
    first_center: the smallest centre (the symbols' offset).

  Returns:
    (cdf, cdf_offset) in the layout of TFC's range coding ops.
  """
  pmf = tf.cast(pmf, tf.float32)
  pmf = pmf / tf.reduce_sum(pmf, axis=1, keepdims=True)
  pmf *= 1.0 - ESCAPE_PROBABILITY
  cdfs = []
  for row in tf.unstack(pmf):
    cdfs.append(tf.constant([-RANGE_CODER_PRECISION]))
    cdfs.append(tfc.pmf_to_quantized_cdf(
        tf.concat([row, [ESCAPE_PROBABILITY]], 0),
        precision=RANGE_CODER_PRECISION))
  cdf_offset = tf.fill([pmf.shape[0]], tf.constant(first_center, tf.int32))
  return tf.concat(cdfs, 0), cdf_offset


def _strict_tables(cdf, cdf_offset):
  """`support_tables` with the precision marker made positive (no escape
  coding: the escape is a plain symbol) and the escape symbol's index."""
  rows = tf.reshape(cdf, [tf.shape(cdf_offset)[0], -1])
  return (tf.concat([tf.abs(rows[:, :1]), rows[:, 1:]], 1),
          tf.shape(rows)[1] - 3)


def encode_support_symbols(symbols, cdf, cdf_offset):
  """Range-codes symbols under `support_tables`, one string per batch
  element: the bytes TFC's coders write for them (escapes never occur).

  Args:
    symbols: int32 [B, ..., N], the centres' values; the last axis cycles
      through the N tables (one per channel).
    cdf, cdf_offset: tables from `support_tables`.

  Returns:
    string [B].
  """
  tables, _ = _strict_tables(cdf, cdf_offset)
  symbols = tf.convert_to_tensor(symbols, tf.int32)
  encoder = tfc.create_range_encoder(tf.shape(symbols)[:1], tables)
  encoder = tfc.entropy_encode_channel(encoder, symbols - cdf_offset)
  return tfc.entropy_encode_finalize(encoder)


def decode_support_symbols(strings, cdf, cdf_offset, shape, indexes=None):
  """Range-decodes strings coded under `support_tables`, refusing any
  string that is not exactly the encoding of what it decodes to.

  TFC's own decoder follows an escape symbol (which the encoder never
  writes here) into an Elias-gamma loop that a crafted string keeps going
  for ever; with the tables' precision marker made positive the escape is a
  plain symbol, so decoding is bounded by the number of symbols. A string
  holding an escape, or whose decoded symbols re-encode to other bytes
  (a padded or overwritten string, say, or one too long for `shape`),
  raises `tf.errors.InvalidArgumentError`. A string cut short, or decoded
  for a larger `shape`, is usually the exact encoding of other symbols
  (the decoder reads missing bytes as zeros; the encoder drops trailing
  ones), and decodes.

  Args:
    strings: string [B], one coded string per batch element.
    cdf, cdf_offset: tables from `support_tables`, int32 [N * (L + 3)] and
      int32 [N] (L centres: marker, L + 2 cumulative counts per row).
    shape: int32 [k], the symbols' shape per string. Without `indexes` the
      last axis cycles through the N tables (one per channel).
    indexes: int32 [B, *shape], the table of each symbol, or None.

  Returns:
    int32 [B, *shape]: the symbols (the centres' values).
  """
  tables, escape = _strict_tables(cdf, cdf_offset)
  decoder = tfc.create_range_decoder(strings, tables)
  encoder = tfc.create_range_encoder(tf.shape(strings), tables)
  if indexes is None:
    _, symbols = tfc.entropy_decode_channel(decoder, shape, tf.int32)
    encoder = tfc.entropy_encode_channel(encoder, symbols)
    offsets = cdf_offset
  else:
    _, symbols = tfc.entropy_decode_index(decoder, indexes, shape, tf.int32)
    encoder = tfc.entropy_encode_index(encoder, indexes, symbols)
    offsets = tf.gather(cdf_offset, indexes)
  canonical = tf.logical_and(
      tf.reduce_all(symbols < escape),
      tf.reduce_all(tf.equal(tfc.entropy_encode_finalize(encoder), strings)))
  # The message only: the strings' bytes are not text.
  with tf.control_dependencies([tf.debugging.Assert(canonical, [
      "corrupt string: not the encoding of symbols of the tables"])]):
    return symbols + offsets


class SupportBatchedModel(tfc.ContinuousBatchedEntropyModel):
  """TFC's batched coder with `support_tables` and a strict decoder."""

  def decompress(self, strings, broadcast_shape):
    """strings string [B], broadcast_shape int32 [k] -> float32
    [B, *broadcast_shape, C] (see `decode_support_symbols`)."""
    shape = tf.concat([broadcast_shape, self.prior_shape_tensor], 0)
    return tf.cast(decode_support_symbols(strings, self.cdf, self.cdf_offset,
                                          shape), self.bottleneck_dtype)


def _kept_positions(keep):
  """keep float32 [1, h, w, 1] -> int64 [N, 2] row-major kept positions."""
  return tf.where(keep[0, :, :, 0] > 0)


def gather_kept(values, keep):
  """[1, h, w, C] -> [1, 1, N, C] at the kept positions."""
  return tf.gather_nd(values[0], _kept_positions(keep))[None, None]


def scatter_kept(values, keep):
  """[1, 1, N, C] -> [1, h, w, C], zeros where nothing is kept."""
  shape = tf.concat([tf.shape(keep, tf.int64)[1:3],
                     tf.shape(values, tf.int64)[-1:]], 0)
  return tf.scatter_nd(_kept_positions(keep), values[0, 0], shape)[None]


def _masked_sum(bits, keep):
  """Sum of per-element bits over kept positions: [B, h, w, C] -> [B]."""
  if keep is not None:
    bits *= keep
  return tf.reduce_sum(bits, axis=(1, 2, 3))


def _support_pmf(prior, centers):
  """prior.prob at each centre: float [N, L] for a prior of batch shape [N]."""
  probabilities = prior.prob(tf.reshape(
      tf.constant(centers, prior.dtype), [-1] + [1] * prior.batch_shape.rank))
  return tf.transpose(tf.reshape(probabilities, [len(centers), -1]))


class FactorizedEntropyModel(tf.keras.layers.Layer):
  """ŵ coded with one learned `NoisyDeepFactorized` density per channel."""

  def __init__(self, channels, centers, **kwargs):
    super().__init__(**kwargs)
    self.channels = channels
    self.centers = tuple(centers)
    self.prior = tfc.NoisyDeepFactorized(batch_shape=(channels,))

  def call(self, w_hat, keep=None, training=False):
    """Rate of `w_hat` (float32 [B, h, w, C] in the centres) in bits, [B],
    over the positions `keep` marks (all without it)."""
    del training  # ŵ is already discrete: the rate is exact in both modes.
    return _masked_sum(support_bits(self.prior, w_hat, self.centers), keep)

  def make_coder(self):
    return FactorizedCoder.from_layer(self)

  def get_config(self):
    return dict(super().get_config(), channels=self.channels,
                centers=self.centers)


class HyperpriorEntropyModel(tf.keras.layers.Layer):
  """ŵ coded with Gaussians whose scales come from a side latent z.

  z = h_a(ŵ) at 1/4 of the latent resolution is coded first (uniform
  quantisation, factorized prior); h_s(ẑ) gives each element of ŵ a scale.
  """

  def __init__(self, channels, hyper_channels, centers, **kwargs):
    super().__init__(**kwargs)
    self.channels = channels
    self.hyper_channels = hyper_channels
    self.centers = tuple(centers)
    conv = tf.keras.layers.Conv2D
    deconv = tf.keras.layers.Conv2DTranspose
    self.hyper_analysis = tf.keras.Sequential([
        conv(hyper_channels, 3, padding="same", activation="relu"),
        conv(hyper_channels, 5, strides=2, padding="same", activation="relu"),
        conv(hyper_channels, 5, strides=2, padding="same"),
    ], name="hyper_analysis")
    self.hyper_synthesis = tf.keras.Sequential([
        deconv(hyper_channels, 5, strides=2, padding="same",
               activation="relu"),
        deconv(hyper_channels, 5, strides=2, padding="same",
               activation="relu"),
        # Starts every scale near 1, a sensible spread for 5-ish centres.
        conv(channels, 3, padding="same", bias_initializer=tf.constant_initializer(
            INITIAL_SCALE_INDEX)),
    ], name="hyper_synthesis")
    self.side_prior = tfc.NoisyDeepFactorized(batch_shape=(hyper_channels,))

  def scale_indexes(self, z_hat, latent_shape):
    """h_s(ẑ) cropped to `latent_shape` (h, w): float32 [B, h, w, C]."""
    indexes = self.hyper_synthesis(z_hat)
    indexes = indexes[:, :latent_shape[0], :latent_shape[1], :]
    return tf.clip_by_value(indexes, 0.0, NUM_SCALES - 1.0)

  def call(self, w_hat, keep=None, training=False):
    """Rate of ŵ at the positions `keep` marks (all without it) plus the
    side information z, in bits, [B]."""
    side_model = tfc.ContinuousBatchedEntropyModel(
        self.side_prior, coding_rank=3, compression=False,
        offset_heuristic=False)
    z_hat, side_bits = side_model(
        self.hyper_analysis(w_hat), training=training)
    indexes = self.scale_indexes(z_hat, tf.shape(w_hat)[1:3])
    if not training:
      indexes = tf.floor(indexes)  # The coder's discrete scale table.
    conditional = tfc.NoisyNormal(loc=0.0, scale=_scale_fn(indexes))
    bits = support_bits(conditional, w_hat, self.centers)
    return _masked_sum(bits, keep) + side_bits

  def make_coder(self):
    return HyperpriorCoder(self)

  def get_config(self):
    return dict(super().get_config(), channels=self.channels,
                hyper_channels=self.hyper_channels, centers=self.centers)


class FactorizedCoder(tf.Module):
  """Range coder for ŵ under a snapshot of a factorized prior: its
  `support_tables` (cdf, cdf_offset) for `channels` channels."""

  def __init__(self, cdf, cdf_offset, channels):
    super().__init__(name="factorized_coder")
    self.latent_model = SupportBatchedModel(
        prior_shape=(channels,), coding_rank=3, compression=True,
        cdf=cdf, cdf_offset=cdf_offset, offset_heuristic=False,
        bottleneck_dtype=tf.float32)

  @classmethod
  def from_layer(cls, layer):
    """The coder of a `FactorizedEntropyModel`'s current prior."""
    return cls(*support_tables(_support_pmf(layer.prior, layer.centers),
                               layer.centers[0]), layer.channels)

  def compress(self, w_hat, keep=None):
    """`w_hat`: float32 [1, h, w, C] -> (latent string, empty side string).

    With `keep` (float32 [1, h, w, 1]) only the kept positions are coded.
    """
    if keep is not None:
      w_hat = gather_kept(w_hat, keep)
    return self.latent_model.compress(w_hat)[0], tf.constant(b"")

  def decompress(self, latent_string, side_string, latent_shape, keep=None):
    """Strings and (h, w) -> ŵ, float32 [1, h, w, C] (zeros where `keep`
    is 0)."""
    del side_string  # A factorized prior sends no side information.
    if keep is None:
      return self.latent_model.decompress(latent_string[None], latent_shape)
    count = tf.reduce_sum(tf.cast(keep > 0, tf.int32))
    return scatter_kept(self.latent_model.decompress(
        latent_string[None], tf.stack([1, count])), keep)


class SupportIndexedGaussianModel(tfc.LocationScaleIndexedEntropyModel):
  """TFC's indexed Gaussian coder with `support_tables` and a strict
  decoder."""

  def __init__(self, centers):
    self._support = tuple(centers)
    super().__init__(tfc.NoisyNormal, NUM_SCALES, _scale_fn, coding_rank=3,
                     compression=True, bottleneck_dtype=tf.float32)

  def _build_tables(self, prior, precision, offset=None):
    """TFC's hook (`pinned.BUILD_TABLES_HOOK`): the tables over the
    centres only."""
    del precision, offset  # Fixed precision; ŵ has integer centres.
    return support_tables(_support_pmf(prior, self._support),
                          self._support[0])

  def decompress(self, strings, scale_indexes):
    """strings string [B], scale_indexes float [B, ...] -> float32 of
    scale_indexes' shape (see `decode_support_symbols`)."""
    indexes = pinned.flat_scale_indexes(self, scale_indexes)
    symbols = decode_support_symbols(strings, self.cdf, self.cdf_offset,
                                     tf.shape(indexes)[1:], indexes)
    return tf.cast(tf.reshape(symbols, tf.shape(scale_indexes)),
                   self.bottleneck_dtype)


@tf.function
def _side_tables(side_prior):
  """TFC's range coding tables of z's prior: (cdf, cdf_offset), int32.

  TFC finds the prior's tails by ~750 Adam steps; traced as one graph they
  take a fraction of a second, where eagerly they take ~20 s.
  """
  model = tfc.ContinuousBatchedEntropyModel(
      side_prior, coding_rank=3, compression=True, stateless=True,
      offset_heuristic=False)
  return model.cdf, model.cdf_offset


class HyperpriorCoder(tf.Module):
  """Range coder for ŵ and z under a snapshot of a hyperprior.

  ŵ is decoded strictly; z, whose values are not confined to a support,
  with TFC's own decoder, which a crafted side string can keep busy.
  """

  def __init__(self, layer):
    super().__init__(name="hyperprior_coder")
    self.layer = layer
    cdf, cdf_offset = _side_tables(layer.side_prior)
    self.side_model = tfc.ContinuousBatchedEntropyModel(
        prior_shape=layer.side_prior.batch_shape, coding_rank=3,
        compression=True, cdf=cdf, cdf_offset=cdf_offset,
        offset_heuristic=False)  # Rounds z as `call` does.
    self.latent_model = SupportIndexedGaussianModel(layer.centers)

  def compress(self, w_hat, keep=None):
    """`w_hat`: float32 [1, h, w, C] -> (latent string, side string).

    With `keep` (float32 [1, h, w, 1]) only the kept positions of ŵ are
    coded (z is computed from the whole, masked ŵ).
    """
    z = self.layer.hyper_analysis(w_hat)
    side_string = self.side_model.compress(z)
    z_hat = self.side_model.decompress(side_string, tf.shape(z)[1:3])
    indexes = self.layer.scale_indexes(z_hat, tf.shape(w_hat)[1:3])
    if keep is not None:
      w_hat, indexes = gather_kept(w_hat, keep), gather_kept(indexes, keep)
    return self.latent_model.compress(w_hat, indexes)[0], side_string[0]

  def decompress(self, latent_string, side_string, latent_shape, keep=None):
    """Strings and (h, w) -> ŵ, float32 [1, h, w, C] (zeros where `keep`
    is 0)."""
    side_shape = (latent_shape + 3) // 4
    z_hat = self.side_model.decompress(side_string[None], side_shape)
    indexes = self.layer.scale_indexes(z_hat, latent_shape)
    if keep is None:
      return self.latent_model.decompress(latent_string[None], indexes)
    return scatter_kept(self.latent_model.decompress(
        latent_string[None], gather_kept(indexes, keep)), keep)


def entropy_model(config):
  """The entropy model layer named by `config.entropy_model`."""
  if config.entropy_model == "hyperprior":
    return HyperpriorEntropyModel(
        config.latent_channels, config.hyperprior_channels, config.centers,
        name="entropy_model")
  return FactorizedEntropyModel(config.latent_channels, config.centers,
                                name="entropy_model")
