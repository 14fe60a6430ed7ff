"""Semantic label maps and synthesis masks for selective compression (SC).

A label map holds one class id per pixel: uint8 [H, W], ids in
[0, num_classes). A synthesis mask marks the pixels to synthesise: bool
[H, W], True = synthesise (the complement is preserved).

In the `.tfgc` container the label map is coded losslessly: one byte s,
then a WebP lossless image (libwebp through Pillow; about half the size of
PNG on piecewise-constant maps) of the map's top-left pixel of every s x s
cell, where s is the largest cell size (up to 64) on which the map is
constant, so repeating each pixel s times restores it exactly (s = 1 for
most real maps; the stand-in labeller's maps are constant on cells). The
latent-resolution mask is coded as packed bits under raw DEFLATE. Both
count in the reported bpp.
"""

import io
import warnings
import zlib

import numpy as np
from PIL import Image

from tfgc.errors import TfgcError
from tfgc.images import ImageError


class LabelMapError(TfgcError):
  """A label map, mask or classes file the user gave cannot be used."""


def _read_pixels(path, to_array):
  """(the file's Pillow mode, `to_array(image)`); ImageError if the file
  cannot be read as an image."""
  try:
    with Image.open(path) as image:
      image.load()
      return image.mode, to_array(image)
  except FileNotFoundError:
    raise ImageError(f"{path}: no such file") from None
  except (OSError, ValueError, SyntaxError) as e:
    raise ImageError(f"{path}: not a readable image ({e})") from None


def read_label_map(path, num_classes, size=None):
  """A single-channel PNG of class ids -> uint8 [H, W].

  Accepts 8-bit grayscale and palette images (the palette index is the
  id, as in Cityscapes' `*_labelIds.png` and most segmentation sets) and
  16-bit images with ids below 256. `size` = (H, W) the map must have.
  """
  mode, labels = _read_pixels(path, np.asarray)
  if labels.ndim != 2 or mode not in ("L", "P", "I", "I;16", "I;16B"):
    raise LabelMapError(
        f"{path} is a {mode} image; a label map holds one class id per "
        "pixel as a single-channel (grayscale or palette) PNG")
  return check_label_map(labels, num_classes, size, name=path)


def check_label_map(labels, num_classes, size=None, name="label map"):
  """Validates ids and size; returns uint8 [H, W]."""
  labels = np.asarray(labels)
  if labels.ndim != 2:
    raise LabelMapError(f"{name}: expected [H, W] class ids, got shape "
                        f"{list(labels.shape)}")
  if size is not None and labels.shape != tuple(size):
    raise LabelMapError(
        f"{name} is {labels.shape[1]}x{labels.shape[0]} but the image is "
        f"{size[1]}x{size[0]}; give the label map of this image")
  if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
    bad = int(labels.max() if labels.max() >= num_classes else labels.min())
    raise LabelMapError(f"{name}: class id {bad} is out of range; this "
                        f"model knows ids 0..{num_classes - 1}")
  return labels.astype(np.uint8)


def read_mask(path, size):
  """A preserve-mask image (nonzero = preserve) -> bool [H, W], True =
  synthesise."""
  _, mask = _read_pixels(path, lambda image: np.asarray(image.convert("L")))
  if mask.shape != tuple(size):
    raise LabelMapError(
        f"{path} is {mask.shape[1]}x{mask.shape[0]} but the image is "
        f"{size[1]}x{size[0]}; the mask must match the image")
  return mask == 0


def read_class_names(path):
  """A classes file -> list of names; line i (from 0) names class i.

  Blank lines and lines starting with # are skipped.
  """
  try:
    with open(path) as f:
      names = [line.strip() for line in f
               if line.strip() and not line.lstrip().startswith("#")]
  except OSError as e:
    raise LabelMapError(f"{path}: {(e.strerror or str(e)).lower()}") from None
  if len(set(names)) != len(names):
    raise LabelMapError(f"{path}: a class name appears twice")
  return names


def class_ids(specs, num_classes, names=None):
  """Classes as ids or names, e.g. [7, "sky", "road"] -> sorted ids; names
  resolved through `names` (the name of class 0 first)."""
  ids = set()
  for spec in (str(s).strip() for s in specs):
    if not spec:
      continue
    if spec.isdigit():
      value = int(spec)
    elif names is not None and spec in names:
      value = names.index(spec)
    else:
      hint = (f"use one of {', '.join(names)} (or ids 0..{num_classes - 1})"
              if names is not None
              else "give class ids, or names with --classes=FILE")
      raise LabelMapError(f"unknown class {spec!r}: {hint}")
    if value >= num_classes:
      raise LabelMapError(f"class id {value} is out of range; this model "
                          f"knows ids 0..{num_classes - 1}")
    ids.add(value)
  return sorted(ids)


def synthesis_mask(labels, ids):
  """bool [H, W]: True where the label is one of `ids`."""
  return np.isin(labels, list(ids))


MAX_CELL = 64


def _upsample(cells, cell, size):
  return cells.repeat(cell, 0).repeat(cell, 1)[:size[0], :size[1]]


def constant_cell(labels):
  """The largest s <= MAX_CELL such that `labels` is constant on every
  s x s cell from the top-left corner (1 if none larger)."""
  for cell in range(min(MAX_CELL, max(labels.shape)), 1, -1):
    if np.array_equal(_upsample(labels[::cell, ::cell], cell, labels.shape),
                      labels):
      return cell
  return 1


def encode_label_map(labels):
  """uint8 [H, W] -> cell size byte + WebP lossless bytes (module doc)."""
  labels = np.ascontiguousarray(labels, np.uint8)
  cell = constant_cell(labels)
  buffer = io.BytesIO()
  Image.fromarray(np.ascontiguousarray(labels[::cell, ::cell])).save(
      buffer, format="WEBP", lossless=True, quality=100, method=6)
  return bytes([cell]) + buffer.getvalue()


def decode_label_map(data, size, num_classes):
  """Bytes of `encode_label_map` -> uint8 [H, W], checked against `size`
  (H, W) and `num_classes`."""
  cell = data[0] if data else 0
  if not 1 <= cell <= MAX_CELL:
    raise LabelMapError("corrupt bitstream: bad label map cell size")
  cells = (-(-size[0] // cell), -(-size[1] // cell))
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("error", Image.DecompressionBombWarning)
      with Image.open(io.BytesIO(data[1:]), formats=["WEBP"]) as image:
        if (image.height, image.width) != cells:
          raise LabelMapError("corrupt bitstream: the label map's size is "
                              "not the image's")
        rgb = np.asarray(image.convert("RGB"))
  except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
          Image.DecompressionBombWarning):
    raise LabelMapError("corrupt bitstream: the label map does not "
                        "decode") from None
  gray = rgb[..., 0]
  if not (np.array_equal(gray, rgb[..., 1])
          and np.array_equal(gray, rgb[..., 2])):
    raise LabelMapError("corrupt bitstream: the label map is not a map "
                        "of class ids")
  labels = _upsample(gray, cell, size)
  if labels.size and labels.max() >= num_classes:
    raise LabelMapError("corrupt bitstream: the label map holds a class "
                        "id the model does not know")
  return labels


def encode_mask(mask):
  """The latent mask (SC's fourth section: the transmitted latent
  positions), bool [h, w] -> packed bits under raw DEFLATE."""
  compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
  packed = np.packbits(np.asarray(mask, bool)).tobytes()
  return compressor.compress(packed) + compressor.flush()


def decode_mask(data, shape):
  """Bytes of `encode_mask` -> bool [h, w]; refuses any other length."""
  size = int(np.prod(shape))
  decompressor = zlib.decompressobj(-15)
  try:
    packed = decompressor.decompress(data, (size + 7) // 8 + 1)
  except zlib.error:
    raise LabelMapError("corrupt bitstream: the latent mask does not "
                        "decode") from None
  if (len(packed) != (size + 7) // 8 or not decompressor.eof
      or decompressor.unused_data):
    raise LabelMapError("corrupt bitstream: the latent mask has the "
                        "wrong size")
  bits = np.unpackbits(np.frombuffer(packed, np.uint8))[:size]
  return bits.reshape(shape).astype(bool)
