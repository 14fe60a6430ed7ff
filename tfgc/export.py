"""SavedModel export: the model's transforms and range coder, nothing else.

Layout of an export directory:

    <export_dir>/saved_model.pb, variables/   compress, decompress, analyze,
                                              synthesize (needs TFC to load)
    <export_dir>/serving/1/                   analyze, synthesize only (core
                                              TF ops: stock TF Serving)
    <export_dir>/model.json                   model id, config, parameters

Signatures (names of outputs are the names of the next step's inputs):

    compress(image: uint8 [H, W, 3])
        -> latent_string: string [], side_string: string [],
           image_shape: int32 [2], seed: int32 []  (0, the default noise seed)
    decompress(latent_string, side_string, image_shape, seed)
        -> image: uint8 [H, W, 3]
    analyze(image: uint8 [H, W, 3])
        -> symbols: int32 [ceil(H/16), ceil(W/16), C] (the quantizer's
           centres), image_shape: int32 [2], seed: int32 []
    synthesize(symbols, image_shape, seed) -> image: uint8 [H, W, 3]

The discriminator is never exported.
"""

import hashlib
import json
import os

import numpy as np
import tensorflow as tf

from tfgc.config import STRIDE
from tfgc.networks import pad_to_stride, with_noise

SERVING_SUBDIR = os.path.join("serving", "1")
MODEL_JSON = "model.json"

_IMAGE = tf.TensorSpec([None, None, 3], tf.uint8, name="image")
_IMAGE_SHAPE = tf.TensorSpec([2], tf.int32, name="image_shape")
_SEED = tf.TensorSpec([], tf.int32, name="seed")
_STRING = tf.TensorSpec([], tf.string)


def latent_shape(image_shape):
  """(H, W) -> (ceil(H/16), ceil(W/16)); int32 [2]."""
  return (image_shape + STRIDE - 1) // STRIDE


class TransformsModule(tf.Module):
  """E, q and G with integer symbols in and out: core TensorFlow ops only."""

  def __init__(self, model, model_id):
    super().__init__(name="tfgc_transforms")
    config = model.config
    self.encoder = model.encoder
    self.quantizer = model.quantizer
    self.generator = model.generator
    self.noise_channels = config.noise_channels
    self.latent_channels = config.latent_channels
    self.model_id = tf.Variable(model_id, trainable=False, name="model_id")
    self.config_json = tf.Variable(config.to_json(), trainable=False,
                                   name="config_json")

  def _latents(self, image):
    """uint8 [H, W, 3] -> ŵ float32 [1, h, w, C] and (H, W)."""
    x = tf.cast(image[None], tf.float32) / 255.0
    return self.quantizer(
        self.encoder(pad_to_stride(x, STRIDE), training=False)), \
        tf.shape(image)[:2]

  def _image(self, w_hat, image_shape, seed):
    """ŵ [1, h, w, C] -> uint8 [H, W, 3], noise drawn from `seed`."""
    x_hat = self.generator(with_noise(w_hat, self.noise_channels, seed),
                           training=False)
    x_hat = x_hat[0, :image_shape[0], :image_shape[1], :]
    return tf.saturate_cast(tf.round(x_hat * 255.0), tf.uint8)

  @tf.function(input_signature=[_IMAGE])
  def analyze(self, image):
    w_hat, image_shape = self._latents(image)
    return dict(symbols=tf.cast(w_hat[0], tf.int32), image_shape=image_shape,
                seed=tf.constant(0))

  @tf.function(input_signature=[
      tf.TensorSpec([None, None, None], tf.int32, name="symbols"),
      _IMAGE_SHAPE, _SEED])
  def synthesize(self, symbols, image_shape, seed):
    w_hat = tf.ensure_shape(tf.cast(symbols, tf.float32),
                            [None, None, self.latent_channels])
    return dict(image=self._image(w_hat[None], image_shape, seed))

  def signatures(self):
    return dict(analyze=self.analyze.get_concrete_function(),
                synthesize=self.synthesize.get_concrete_function())


class CodecModule(TransformsModule):
  """The transforms plus a range-coding snapshot of the entropy model."""

  def __init__(self, model, model_id):
    super().__init__(model, model_id)
    self.coder = model.entropy_model.make_coder()

  @tf.function(input_signature=[_IMAGE])
  def compress(self, image):
    w_hat, image_shape = self._latents(image)
    latent_string, side_string = self.coder.compress(w_hat)
    return dict(latent_string=latent_string, side_string=side_string,
                image_shape=image_shape, seed=tf.constant(0))

  @tf.function(input_signature=[
      tf.TensorSpec([], tf.string, name="latent_string"),
      tf.TensorSpec([], tf.string, name="side_string"),
      _IMAGE_SHAPE, _SEED])
  def decompress(self, latent_string, side_string, image_shape, seed):
    w_hat = self.coder.decompress(
        latent_string, side_string, latent_shape(image_shape))
    return dict(image=self._image(w_hat, image_shape, seed))

  def signatures(self):
    return dict(super().signatures(),
                compress=self.compress.get_concrete_function(),
                decompress=self.decompress.get_concrete_function())


def model_id(config, variables):
  """16 hex digits of SHA-256 over the config and the weights' values.

  `variables` in a deterministic order (a module's or model's own order);
  names are left out: Keras numbers layer names per process.
  """
  digest = hashlib.sha256(config.to_json().encode())
  for variable in variables:
    value = np.ascontiguousarray(variable.numpy())
    digest.update(str(value.shape).encode())
    digest.update(value.tobytes())
  return digest.hexdigest()[:16]


def parameter_counts(model):
  """Parameter counts of the exported parts and of D (training only)."""
  def count(layer):
    return int(sum(np.prod(v.shape) for v in layer.weights))
  return dict(encoder=count(model.encoder), generator=count(model.generator),
              entropy_model=count(model.entropy_model),
              discriminator=count(model.discriminator))


def export(model, export_dir):
  """Writes the SavedModels and model.json to `export_dir`; returns the id.

  The weights exported are the model's current ones (the coder is a fresh
  snapshot), so export after training.
  """
  codec = CodecModule(model, "")
  weights = [v for v in codec.variables if v.dtype != tf.string]
  identifier = model_id(model.config, weights)
  codec.model_id.assign(identifier)
  tf.saved_model.save(codec, export_dir, signatures=codec.signatures())
  transforms = TransformsModule(model, identifier)
  tf.saved_model.save(transforms, os.path.join(export_dir, SERVING_SUBDIR),
                      signatures=transforms.signatures())
  description = dict(model_id=identifier,
                     config=json.loads(model.config.to_json()),
                     parameters=parameter_counts(model))
  with open(os.path.join(export_dir, MODEL_JSON), "w") as f:
    json.dump(description, f, indent=2)
  return identifier
