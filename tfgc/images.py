"""Reading any common image file as uint8 RGB, and writing files safely."""

import contextlib
import os
import tempfile
import warnings

import numpy as np
from PIL import Image, ImageOps

from tfgc.errors import TfgcError

DEFAULT_MAX_PIXELS = 50_000_000


class ImageError(TfgcError):
  """An input image cannot be read."""


def read_image(path, max_pixels=DEFAULT_MAX_PIXELS):
  """Reads PNG, JPEG, WebP, TIFF, BMP, ... as uint8 [H, W, 3].

  EXIF orientation is applied; grayscale, palette, CMYK and 16-bit images
  are converted to 8-bit RGB; alpha is dropped with a warning. Images above
  `max_pixels` (None: no limit) are refused before they are decoded
  (decompression bombs).
  """
  try:
    with Image.open(path) as image:
      if max_pixels is not None and image.width * image.height > max_pixels:
        raise ImageError(
            f"{path}: {image.width}x{image.height} exceeds the limit of "
            f"{max_pixels} pixels; raise it with --max_pixels")
      with warnings.catch_warnings():
        if max_pixels is not None:
          warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = ImageOps.exif_transpose(image)
        image.load()
      return to_rgb(image, path)
  except ImageError:
    raise
  except FileNotFoundError:
    raise ImageError(f"{path}: no such file") from None
  except IsADirectoryError:
    raise ImageError(f"{path}: is a directory") from None
  except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
          Image.DecompressionBombWarning) as e:
    raise ImageError(f"{path}: not a readable image ({e})") from None


def to_rgb(image, name="image"):
  """A Pillow image in any mode -> uint8 [H, W, 3]."""
  if image.mode in ("RGBA", "LA", "PA") or (
      image.mode == "P" and "transparency" in image.info):
    warnings.warn(f"{name}: alpha channel dropped")
  if image.mode.startswith("I;16") or image.mode in ("I", "F"):
    values = np.asarray(image, dtype=np.float64)
    scale = 255.0 / 65535.0 if image.mode != "F" else 255.0
    image = Image.fromarray(np.clip(np.round(values * scale), 0, 255)
                            .astype(np.uint8))
  return np.asarray(image.convert("RGB"), dtype=np.uint8)


@contextlib.contextmanager
def atomic_output(path, overwrite=False):
  """Yields a temporary path beside `path`; renames it over `path` on success.

  On any exception the temporary file is removed, so no partial output is
  left behind. Refuses to replace an existing file unless `overwrite`.
  """
  if os.path.exists(path) and not overwrite:
    raise TfgcError(f"{path} exists; pass --overwrite to replace it")
  folder = os.path.dirname(os.path.abspath(path))
  handle, temporary = tempfile.mkstemp(
      dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
  os.close(handle)
  try:
    yield temporary
    os.replace(temporary, path)
  finally:
    if os.path.exists(temporary):
      os.remove(temporary)


def save_png(path, image):
  """Writes uint8 [H, W, 3] to `path` as PNG."""
  Image.fromarray(image).save(path, format="PNG")
