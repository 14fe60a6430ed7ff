import contextlib

import numpy as np
import pytest
from PIL import Image

from tfgc import images
from tfgc.errors import TfgcError

RGB = np.random.default_rng(0).integers(0, 256, (6, 10, 3), np.uint8)


def saved(tmp_path, name, image, **kwargs):
  path = tmp_path / name
  image.save(path, **kwargs)
  return str(path)


@pytest.mark.parametrize("name", ["a.png", "a.bmp", "a.tif", "a.webp"])
def test_lossless_formats_read_back_exactly(tmp_path, name):
  kwargs = {"lossless": True} if name.endswith("webp") else {}
  path = saved(tmp_path, name, Image.fromarray(RGB), **kwargs)
  np.testing.assert_array_equal(images.read_image(path), RGB)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "I;16", "LA", "RGBA"])
def test_every_mode_becomes_8_bit_rgb(tmp_path, mode):
  image = Image.fromarray(RGB)
  if mode == "I;16":
    image = Image.fromarray((RGB[..., 0].astype(np.uint16) * 257))
  else:
    image = image.convert(mode)
  suffix = "tif" if mode == "CMYK" else "png"
  path = saved(tmp_path, f"a.{suffix}", image)
  with pytest.warns(UserWarning, match="alpha") if "A" in mode else \
      contextlib.nullcontext():
    result = images.read_image(path)
  assert result.dtype == np.uint8 and result.shape == (6, 10, 3)
  if mode == "I;16":
    np.testing.assert_array_equal(result[..., 0], RGB[..., 0])


def test_exif_orientation_is_applied(tmp_path):
  exif = Image.Exif()
  exif[0x0112] = 6  # Rotate 90° clockwise when displayed.
  path = saved(tmp_path, "a.jpg", Image.fromarray(RGB), exif=exif)
  assert images.read_image(path).shape == (10, 6, 3)


def test_image_above_the_pixel_limit_is_refused_before_decoding(tmp_path):
  path = saved(tmp_path, "a.png", Image.fromarray(RGB))
  with pytest.raises(TfgcError, match="--max_pixels"):
    images.read_image(path, max_pixels=59)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"), (b"", "not a readable image"),
    (b"GIF89a broken", "not a readable image")])
def test_unreadable_inputs_give_one_clean_error(tmp_path, content, message):
  path = tmp_path / "bad.png"
  if content is not None:
    path.write_bytes(content)
  with pytest.raises(TfgcError, match=message):
    images.read_image(str(path))


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
  target = tmp_path / "out.bin"
  with pytest.raises(RuntimeError):
    with images.atomic_output(str(target)) as temporary:
      open(temporary, "wb").write(b"partial")
      raise RuntimeError("boom")
  assert list(tmp_path.iterdir()) == []


def test_atomic_output_respects_overwrite(tmp_path):
  target = tmp_path / "out.bin"
  target.write_bytes(b"old")
  with pytest.raises(TfgcError, match="--overwrite"):
    with images.atomic_output(str(target)):
      pass
  assert target.read_bytes() == b"old"
  with images.atomic_output(str(target), overwrite=True) as temporary:
    open(temporary, "wb").write(b"new")
  assert target.read_bytes() == b"new"
