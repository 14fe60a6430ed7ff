"""Reading any common image file as uint8 RGB, and writing files safely."""

import contextlib
import os
import secrets
import stat
import warnings

import numpy as np
from PIL import Image, ImageOps

from tfgc.errors import TfgcError

DEFAULT_MAX_PIXELS = 50_000_000
# Pillow's format and save options by suffix, for writing decoded images
# as faithfully as each format can: WebP lossless, JPEG (which has no
# lossless mode) at quality 95.
OUTPUT_FORMATS = {
    ".png": ("PNG", {}), ".jpg": ("JPEG", dict(quality=95)),
    ".jpeg": ("JPEG", dict(quality=95)),
    ".webp": ("WEBP", dict(lossless=True)),
    ".tif": ("TIFF", {}), ".tiff": ("TIFF", {}), ".bmp": ("BMP", {})}
IMAGE_SUFFIXES = tuple(OUTPUT_FORMATS)


class ImageError(TfgcError):
  """An input image cannot be read."""


def list_files(folder, suffixes=IMAGE_SUFFIXES):
  """Files under `folder` ending in `suffixes` (any case), recursively,
  sorted."""
  found = []
  for root, _, files in os.walk(folder):
    found.extend(os.path.join(root, name) for name in files
                 if name.lower().endswith(suffixes))
  return sorted(found)


def require_regular_file(path):
  """Raises TfgcError unless `path` is a regular file (a FIFO or device
  would block or never end)."""
  try:
    mode = os.stat(path).st_mode
  except FileNotFoundError:
    raise TfgcError(f"{path}: no such file") from None
  except OSError as e:
    raise TfgcError(f"{path}: {(e.strerror or str(e)).lower()}") from None
  if stat.S_ISDIR(mode):
    raise TfgcError(f"{path}: is a directory")
  if not stat.S_ISREG(mode):
    raise TfgcError(f"{path}: not a regular file")


def name_of(source):
  """How messages name an image `source`: a path, or a file object by its
  `name` (e.g. "<stdin>")."""
  if isinstance(source, (str, os.PathLike)):
    return os.fspath(source)
  return getattr(source, "name", "image")


@contextlib.contextmanager
def _opened(source, max_pixels):
  """Pillow's image of `source` (a file or file object) with its header
  read, refused above `max_pixels` (None: no limit). Errors here or in the
  caller's block (decoding) become one ImageError naming it."""
  path = name_of(source)
  if isinstance(source, (str, os.PathLike)):
    try:
      require_regular_file(source)
    except TfgcError as e:
      raise ImageError(str(e)) from None
  try:
    with warnings.catch_warnings():
      if max_pixels is not None:
        # The limit below replaces Pillow's warning above 89 Mpx, which
        # would be a second line beside a refusal, or noise on success.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
      image = Image.open(source)
    with image:
      if max_pixels is not None and image.width * image.height > max_pixels:
        raise ImageError(
            f"{path}: {image.width}x{image.height} exceeds the limit of "
            f"{max_pixels} pixels; raise it with --max_pixels")
      yield image
  except ImageError:
    raise
  except FileNotFoundError:
    raise ImageError(f"{path}: no such file") from None
  except IsADirectoryError:
    raise ImageError(f"{path}: is a directory") from None
  except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
          Image.DecompressionBombWarning) as e:
    # Pillow names a file object by its repr ("<_io.BytesIO object at
    # 0x7f...>"), which means nothing to the user: the name says it.
    detail = str(e).replace(f" {source!r}", "").replace(repr(source), path)
    raise ImageError(f"{path}: not a readable image ({detail})") from None


def image_size(source, max_pixels=DEFAULT_MAX_PIXELS):
  """(width, height) of an image file (path or file object) from its
  header (before EXIF orientation), without decoding it: ImageError if it
  is not a readable image or is above `max_pixels` (None: no limit)."""
  with _opened(source, max_pixels) as image:
    return image.size


def read_image(source, max_pixels=DEFAULT_MAX_PIXELS):
  """Reads PNG, JPEG, WebP, TIFF, BMP, ... (a path or a file object) as
  uint8 [H, W, 3].

  EXIF orientation is applied; grayscale, palette, CMYK and 16-bit images
  are converted to 8-bit RGB; alpha is dropped with a warning. Images above
  `max_pixels` (None: no limit) are refused before they are decoded
  (decompression bombs).
  """
  with _opened(source, max_pixels) as image:
    with warnings.catch_warnings():
      if max_pixels is not None:
        # Sizes that only decoding reveals (GIF frames, icons), beyond
        # the header's, are refused at Pillow's own limit.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
      image = ImageOps.exif_transpose(image)
      image.load()
    return to_rgb(image, name_of(source))


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


def is_grey(image):
  """Whether uint8 [H, W, 3] has equal channels everywhere (a greyscale
  file read as RGB, or an RGB file of greys)."""
  return bool(np.all(image[..., :1] == image[..., 1:]))


def to_grey(image):
  """uint8 [H, W, 3] -> uint8 [H, W], its luma (ITU-R 601-2, Pillow's
  "L")."""
  return np.asarray(Image.fromarray(image).convert("L"))


def check_output(path, overwrite=False):
  """Raises TfgcError unless `path` can be written: its folder exists, it
  is not a folder, and it does not exist unless `overwrite`."""
  folder = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(folder):
    raise TfgcError(f"{path}: no such folder {folder}")
  if os.path.isdir(path):
    raise TfgcError(f"{path} is a folder; name an output file")
  if os.path.lexists(path) and not overwrite:
    raise TfgcError(f"{path} exists; pass --overwrite to replace it")


def _create_temporary(path):
  """Creates an empty `.NAME.XXXXXXXX.tmp` beside `path` with the
  permissions of a new file (0666 less the umask); returns its path."""
  folder, name = os.path.split(os.path.abspath(path))
  while True:
    temporary = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
      os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                       0o666))
      return temporary
    except FileExistsError:
      continue


def _move_to_new(temporary, path):
  """Moves `temporary` to `path`; FileExistsError if `path` exists, even
  if another process has just created it (a hard link, where the file
  system has them)."""
  try:
    os.link(temporary, path)
  except FileExistsError:
    raise
  except OSError:  # No hard links here (FAT, some network shares).
    if os.path.lexists(path):
      raise FileExistsError(path) from None
    os.replace(temporary, path)


def _os_error(path, error):
  return TfgcError(f"{path}: cannot write "
                   f"({(error.strerror or str(error)).lower()})")


@contextlib.contextmanager
def atomic_output(path, overwrite=False):
  """Yields a temporary path beside `path`; moves it to `path` on success.

  On any exception the temporary file (`.NAME.*.tmp`) is removed, so no
  partial output is left behind. Without `overwrite` an existing `path` is
  never replaced, not even one another process has just created. The
  output has the permissions of a new file. OS errors become TfgcError
  naming `path`.
  """
  check_output(path, overwrite)
  try:
    temporary = _create_temporary(path)
  except OSError as e:
    raise _os_error(path, e) from None
  try:
    yield temporary
    if overwrite:
      os.replace(temporary, path)
    else:
      _move_to_new(temporary, path)
  except FileExistsError:
    raise TfgcError(f"{path} exists; pass --overwrite to replace it") from None
  except OSError as e:
    raise _os_error(path, e) from None
  finally:
    if os.path.exists(temporary):
      os.remove(temporary)


def save_png(path, image):
  """Writes uint8 [H, W, 3] to `path` as PNG."""
  save_image(path, image)


def save_image(file, image, suffix=".png"):
  """Writes uint8 [H, W, 3] (or [H, W], greyscale) to `file`, a path or a
  binary file object, in the format of `suffix` (`OUTPUT_FORMATS`)."""
  image_format, options = OUTPUT_FORMATS[suffix.lower()]
  Image.fromarray(image).save(file, format=image_format, **options)
