"""Entropy models for H(ŵ): the training-time rate and the range coder.

Each model is a Keras layer whose `call` returns the rate of ŵ in bits, and
whose `make_coder` snapshots the current weights into a `tf.Module` that
range-codes ŵ with TFC. The snapshot holds its coding tables as variables,
so it is exported with the SavedModel; a coder is made after training, never
kept in sync by hand.

ŵ holds integers (the quantizer's centres are consecutive integers), so the
entropy models code it without quantisation offsets (DESIGN.md §3 pitfalls).
"""

import math

import tensorflow as tf
import tensorflow_compression as tfc

# Scale table of the hyperprior's conditional Gaussians (Ballé et al. 2018).
SCALE_MIN, SCALE_MAX, NUM_SCALES = 0.11, 256.0, 64


def _scale_fn(index):
  log_min = math.log(SCALE_MIN)
  step = (math.log(SCALE_MAX) - log_min) / (NUM_SCALES - 1)
  return tf.exp(log_min + step * index)


def _latent_model(prior, compression):
  return tfc.ContinuousBatchedEntropyModel(
      prior, coding_rank=3, compression=compression, offset_heuristic=False)


def _conditional_model(compression):
  return tfc.LocationScaleIndexedEntropyModel(
      tfc.NoisyNormal, NUM_SCALES, _scale_fn, coding_rank=3,
      compression=compression)


class FactorizedEntropyModel(tf.keras.layers.Layer):
  """ŵ coded with one learned `NoisyDeepFactorized` density per channel."""

  def __init__(self, channels, **kwargs):
    super().__init__(**kwargs)
    self.channels = channels
    self.prior = tfc.NoisyDeepFactorized(batch_shape=(channels,))

  def call(self, w_hat, training=False):
    """Rate of `w_hat` (float32 [B, h, w, C], integers) in bits, [B].

    In training the rate is the differentiable noisy upper bound; otherwise
    the Shannon information of ŵ under the prior.
    """
    _, bits = _latent_model(self.prior, compression=False)(
        w_hat, training=training)
    return bits

  def make_coder(self):
    return FactorizedCoder(self.prior)

  def get_config(self):
    return dict(super().get_config(), channels=self.channels)


class HyperpriorEntropyModel(tf.keras.layers.Layer):
  """ŵ coded with Gaussians whose scales come from a side latent z.

  z = h_a(ŵ) at 1/4 of the latent resolution is coded first with a
  factorized prior; h_s(ẑ) gives each element of ŵ a scale index.
  """

  def __init__(self, channels, hyper_channels, **kwargs):
    super().__init__(**kwargs)
    self.channels = channels
    self.hyper_channels = hyper_channels
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
        conv(channels, 3, padding="same", activation="relu"),
    ], name="hyper_synthesis")
    self.side_prior = tfc.NoisyDeepFactorized(batch_shape=(hyper_channels,))

  def scale_indexes(self, z_hat, latent_shape):
    """h_s(ẑ) cropped to `latent_shape` (h, w): float32 [B, h, w, C]."""
    indexes = self.hyper_synthesis(z_hat)
    return indexes[:, :latent_shape[0], :latent_shape[1], :]

  def call(self, w_hat, training=False):
    """Rate of ŵ plus the side information z, in bits, [B]."""
    side_model = tfc.ContinuousBatchedEntropyModel(
        self.side_prior, coding_rank=3, compression=False)
    z_hat, side_bits = side_model(
        self.hyper_analysis(w_hat), training=training)
    indexes = self.scale_indexes(z_hat, tf.shape(w_hat)[1:3])
    _, bits = _conditional_model(compression=False)(
        w_hat, indexes, training=training)
    return bits + side_bits

  def make_coder(self):
    return HyperpriorCoder(self)

  def get_config(self):
    return dict(super().get_config(), channels=self.channels,
                hyper_channels=self.hyper_channels)


class FactorizedCoder(tf.Module):
  """Range coder for ŵ under a snapshot of a factorized prior."""

  def __init__(self, prior):
    super().__init__(name="factorized_coder")
    self.latent_model = _latent_model(prior, compression=True)

  def compress(self, w_hat):
    """`w_hat`: float32 [1, h, w, C] -> (latent string, empty side string)."""
    return self.latent_model.compress(w_hat)[0], tf.constant(b"")

  def decompress(self, latent_string, side_string, latent_shape):
    """Strings and (h, w) -> ŵ, float32 [1, h, w, C]."""
    del side_string  # A factorized prior sends no side information.
    return self.latent_model.decompress(latent_string[None], latent_shape)


class HyperpriorCoder(tf.Module):
  """Range coder for ŵ and z under a snapshot of a hyperprior."""

  def __init__(self, layer):
    super().__init__(name="hyperprior_coder")
    self.layer = layer
    self.side_model = tfc.ContinuousBatchedEntropyModel(
        layer.side_prior, coding_rank=3, compression=True)
    self.latent_model = _conditional_model(compression=True)

  def compress(self, w_hat):
    """`w_hat`: float32 [1, h, w, C] -> (latent string, side string)."""
    z = self.layer.hyper_analysis(w_hat)
    side_string = self.side_model.compress(z)
    z_hat = self.side_model.decompress(side_string, tf.shape(z)[1:3])
    indexes = self.layer.scale_indexes(z_hat, tf.shape(w_hat)[1:3])
    return self.latent_model.compress(w_hat, indexes)[0], side_string[0]

  def decompress(self, latent_string, side_string, latent_shape):
    """Strings and (h, w) -> ŵ, float32 [1, h, w, C]."""
    side_shape = (latent_shape + 3) // 4
    z_hat = self.side_model.decompress(side_string[None], side_shape)
    indexes = self.layer.scale_indexes(z_hat, latent_shape)
    return self.latent_model.decompress(latent_string[None], indexes)


def entropy_model(config):
  """The entropy model layer named by `config.entropy_model`."""
  if config.entropy_model == "hyperprior":
    return HyperpriorEntropyModel(
        config.latent_channels, config.hyperprior_channels, name="entropy_model")
  return FactorizedEntropyModel(config.latent_channels, name="entropy_model")
