"""The Python API: load a model, compress images to bytes and back.

    from tfgc import codec
    model = codec.load("path/to/export")        # or a bundled model's name
    data = model.compress("photo.jpg")          # bytes of a .tfgc file
    image = model.decompress(data, seed=0)      # uint8 [H, W, 3]
    codec.info(data)                            # dict, no model needed

    # Selective compression (SC models): synthesise classes 7 and 8
    data = model.compress("photo.jpg", labels="photo_labels.png",
                          synthesize=[7, 8])    # or preserve=bool [H, W]

Bitstreams are validated before any tensor is built, and decode only with
the model whose id they carry.
"""

import json
import os

import numpy as np

from tfgc import bitstream, labelmaps, models
from tfgc.config import STRIDE
from tfgc.errors import TfgcError
from tfgc.images import DEFAULT_MAX_PIXELS, read_image
from tfgc.labeller import cluster_labels


class ModelError(TfgcError):
  """The model cannot be found, loaded, or does not fit the bitstream."""


def resolve(model=None):
  """A model name or export directory -> the export directory."""
  if model is None:
    model = models.default()
    if model is None:
      raise ModelError(f"the default model {models.DEFAULT!r} is not "
                       f"installed in {models.DIR}; pass --model=DIR (an "
                       "export_dir written by train.py)")
  if os.path.isdir(model):
    path = model
  elif model in models.names():
    path = models.path(model)
  else:
    known = ", ".join(models.names()) or "none bundled"
    raise ModelError(f"no model {model!r}: give an export directory or a "
                     f"bundled model name ({known})")
  if not os.path.exists(os.path.join(path, "saved_model.pb")):
    raise ModelError(f"{path} is not a tfgc export (no saved_model.pb); "
                     "pass the export_dir written by train.py")
  return path


def info(data, max_pixels=None):
  """The header of a .tfgc bitstream as a dict (validates everything)."""
  parsed = bitstream.parse(data, max_pixels)
  size = len(data)
  header = dict(format_version=bitstream.VERSION, model_id=parsed.model_id,
                mode=parsed.mode, width=parsed.width, height=parsed.height,
                payload_bytes=parsed.payload_bytes, file_bytes=size,
                bits_per_pixel=8 * size / (parsed.width * parsed.height))
  if parsed.mode == "sc":
    header.update(zip(("latent_bytes", "side_bytes", "label_map_bytes",
                       "synthesis_mask_bytes"),
                      (len(s) for s in parsed.sections)))
  return header


class Codec:
  """A loaded exported model. Create with `load`."""

  def __init__(self, path, max_pixels=DEFAULT_MAX_PIXELS):
    import tensorflow as tf
    import tensorflow_compression  # noqa: F401  (range coding ops)
    self._tf = tf
    self.path = path
    self.max_pixels = max_pixels
    with open(os.path.join(path, "model.json")) as f:
      self.description = json.load(f)
    self.model_id = self.description["model_id"]
    config = self.description["config"]
    self.mode = config["mode"]
    self.num_classes = config.get("num_classes", 0)
    self.standin_labels = config.get("standin_labels", False)
    self.latent_channels = config["latent_channels"]
    self._model = tf.saved_model.load(path)
    self._compress = self._model.signatures["compress"]
    self._decompress = self._model.signatures["decompress"]
    self._synthesize = self._model.signatures["synthesize"]
    # A factorized prior's tables are all its strings need: decoding them
    # here (strictly, see `entropy.decode_support_symbols`) protects
    # exports made before their own decoder was strict. A hyperprior's
    # tables depend on the side string: its exports decode themselves.
    self._latent_tables = None
    if config["entropy_model"] == "factorized":
      latent_model = self._model.coder.latent_model
      self._latent_tables = (latent_model._cdf, latent_model._cdf_offset)  # pylint: disable=protected-access

  def compress(self, image, labels=None, synthesize=None, preserve=None,
               class_names=None):
    """An image -> .tfgc bytes.

    image: uint8 [H, W, 3] array or an image file path.
    SC models only:
      labels: class ids, uint8 [H, W] or a label-map file. Models trained
        on stand-in labels take none: they use the stand-in labeller's
        regions.
      synthesize: classes whose pixels are synthesised: ids, or names
        listed in `class_names` (name of class 0 first), or
      preserve: bool [H, W] (True = keep faithful) or a mask image file
        (nonzero = preserve). Neither: everything is preserved.
    """
    if isinstance(image, (str, os.PathLike)):
      image = read_image(image, self.max_pixels)
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
      raise TfgcError(f"expected a uint8 [H, W, 3] image, got "
                      f"{image.dtype} {list(image.shape)}")
    height, width = image.shape[:2]
    if self.max_pixels is not None and height * width > self.max_pixels:
      raise TfgcError(f"{width}x{height} exceeds the limit of "
                      f"{self.max_pixels} pixels")
    if max(height, width) > bitstream.MAX_SIDE:
      raise TfgcError(f"{width}x{height}: the .tfgc format holds sides of "
                      f"up to {bitstream.MAX_SIDE} pixels; crop the image")
    tf = self._tf
    if self.mode != "sc":
      if any(a is not None for a in (labels, synthesize, preserve)):
        raise TfgcError("this is a GC model: label maps, --synthesize and "
                        "--preserve need an SC model (--mode=sc)")
      strings = self._compress(image=tf.constant(image))
      sections = ()
    else:
      labels = self.label_map(image, labels)
      mask = self.synthesis_mask(labels, synthesize, preserve, class_names)
      strings = self._compress(image=tf.constant(image),
                               labels=tf.constant(labels),
                               synthesis_mask=tf.constant(mask, tf.uint8))
      sections = (labelmaps.encode_label_map(labels),
                  labelmaps.encode_mask(strings["latent_mask"].numpy()))
    return bitstream.serialize(bitstream.Bitstream(
        model_id=self.model_id, mode=self.mode, width=width, height=height,
        sections=(strings["latent_string"].numpy(),
                  strings["side_string"].numpy()) + sections))

  def label_map(self, image, labels=None):
    """The SC label map for `image`: uint8 [H, W] (see `compress`)."""
    size = image.shape[:2]
    if self.standin_labels:
      if labels is not None:
        raise TfgcError("this SC model was trained on the stand-in "
                        "labeller's regions and computes them itself: drop "
                        "--labels, or use an SC model trained on your label "
                        "maps (train.py --mode=sc --labels_dir=DIR)")
      return cluster_labels(image, self.num_classes)
    if labels is None:
      raise TfgcError("this SC model needs the image's label map: pass "
                      "--labels=LABELS.png")
    if isinstance(labels, (str, os.PathLike)):
      return labelmaps.read_label_map(labels, self.num_classes, size)
    return labelmaps.check_label_map(labels, self.num_classes, size)

  def synthesis_mask(self, labels, synthesize=None, preserve=None,
                     class_names=None):
    """bool [H, W], True = synthesise (see `compress`)."""
    if synthesize is not None and preserve is not None:
      raise TfgcError("give the classes to synthesise or a preserve mask, "
                      "not both")
    if synthesize is not None:
      ids = labelmaps.class_ids(synthesize, self.num_classes, class_names)
      return labelmaps.synthesis_mask(labels, ids)
    if preserve is None:
      return np.zeros(labels.shape, bool)
    if isinstance(preserve, (str, os.PathLike)):
      return labelmaps.read_mask(preserve, labels.shape)
    preserve = np.asarray(preserve)
    if preserve.shape != labels.shape:
      raise labelmaps.LabelMapError(
          f"the preserve mask is {list(preserve.shape)}, the image "
          f"{list(labels.shape)}; they must match")
    return ~preserve.astype(bool)

  def decompress(self, data, seed=0):
    """.tfgc bytes -> uint8 [H, W, 3]; `seed` picks the synthesised noise."""
    parsed = bitstream.parse(data, self.max_pixels)
    if parsed.model_id != self.model_id:
      raise ModelError(f"bitstream was made by model {parsed.model_id}, not "
                       f"{self.model_id}; pass that model with --model")
    if parsed.mode != self.mode:
      raise bitstream.BitstreamError(
          f"corrupt bitstream: mode {parsed.mode.upper()}, but model "
          f"{self.model_id} codes {self.mode.upper()}")
    tf = self._tf
    latent, side = parsed.sections[:2]
    if side and self._latent_tables is not None:
      raise TfgcError("corrupt bitstream: a side string, which this model's "
                      "factorized prior never writes")
    latent_shape = (-(-parsed.height // STRIDE), -(-parsed.width // STRIDE))
    inputs = dict(
        image_shape=tf.constant([parsed.height, parsed.width], tf.int32),
        seed=tf.constant(seed, tf.int32))
    latent_mask = None
    if self.mode == "sc":
      labels = labelmaps.decode_label_map(
          parsed.sections[2], (parsed.height, parsed.width), self.num_classes)
      latent_mask = labelmaps.decode_mask(parsed.sections[3], latent_shape)
      inputs.update(labels=tf.constant(labels),
                    latent_mask=tf.constant(latent_mask, tf.uint8))
    try:
      if self._latent_tables is None:
        image = self._decompress(latent_string=tf.constant(latent),
                                 side_string=tf.constant(side), **inputs)
      else:
        symbols = self._latent_symbols(latent, latent_shape, latent_mask)
        image = self._synthesize(symbols=tf.constant(symbols), **inputs)
    except tf.errors.OpError:
      raise TfgcError("corrupt bitstream: the entropy-coded payload does not "
                      "decode") from None
    return image["image"].numpy()

  def _latent_symbols(self, latent, latent_shape, latent_mask=None):
    """A factorized prior's latent string -> int32 [h, w, C] symbols, 0
    where `latent_mask` (uint8 [h, w]) is 0; InvalidArgumentError if the
    string is corrupt."""
    from tfgc.entropy import decode_support_symbols
    strings = self._tf.constant([latent])
    if latent_mask is None:
      shape = latent_shape + (self.latent_channels,)
      return decode_support_symbols(strings, *self._latent_tables,
                                    shape)[0].numpy()
    kept = latent_mask > 0
    symbols = np.zeros(latent_shape + (self.latent_channels,), np.int32)
    symbols[kept] = decode_support_symbols(
        strings, *self._latent_tables,
        (int(kept.sum()), self.latent_channels))[0].numpy()
    return symbols


def load(model=None, max_pixels=DEFAULT_MAX_PIXELS):
  """Loads a model by export directory or bundled name (None: default)."""
  return Codec(resolve(model), max_pixels)
