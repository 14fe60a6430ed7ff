import contextlib
import warnings

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


def test_the_pixel_limit_replaces_pillows_bomb_warning(tmp_path,
                                                       monkeypatch):
  """Pillow warns above its limit (89 Mpx; 1,000 here): beside tfgc's own
  limit that was a second line on refusal and noise on success."""
  monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
  path = saved(tmp_path, "a.png", Image.new("RGB", (40, 40)))
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    assert images.read_image(path, max_pixels=2000).shape == (40, 40, 3)
    with pytest.raises(TfgcError, match="--max_pixels"):
      images.read_image(path, max_pixels=1500)


def test_image_size_reads_the_header_only(tmp_path):
  path = saved(tmp_path, "a.png", Image.fromarray(RGB))
  with open(path, "r+b") as f:
    f.truncate(len(f.read()) // 2)  # The pixels cut off, the header whole.
  assert images.image_size(path) == (10, 6)
  with pytest.raises(TfgcError, match="--max_pixels"):
    images.image_size(path, max_pixels=59)
  with pytest.raises(TfgcError, match="not a readable image"):
    images.read_image(path)


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


def test_atomic_output_never_replaces_a_file_created_meanwhile(tmp_path):
  target = tmp_path / "out.bin"
  with pytest.raises(TfgcError, match="exists"):
    with images.atomic_output(str(target)) as temporary:
      open(temporary, "wb").write(b"ours")
      target.write_bytes(b"another process's")  # Between check and move.
  assert target.read_bytes() == b"another process's"
  assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_atomic_output_has_the_permissions_of_a_new_file(tmp_path):
  import os
  previous = os.umask(0o027)
  try:
    with images.atomic_output(str(tmp_path / "out.bin")) as temporary:
      open(temporary, "wb").write(b"x")
  finally:
    os.umask(previous)
  assert (tmp_path / "out.bin").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("name, message", [
    ("missing/out.bin", "no such folder"),
    ("folder", "is a folder"),
])
def test_atomic_output_names_an_impossible_output(tmp_path, name, message):
  (tmp_path / "folder").mkdir()
  with pytest.raises(TfgcError, match=message):
    with images.atomic_output(str(tmp_path / name), overwrite=True):
      pass
  assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_atomic_output_turns_a_full_disk_into_an_error_naming_the_output(
    tmp_path):
  import errno
  target = tmp_path / "out.bin"
  with pytest.raises(TfgcError, match=f"{target}: cannot write .no space"):
    with images.atomic_output(str(target)):
      raise OSError(errno.ENOSPC, "No space left on device")
  assert list(tmp_path.iterdir()) == []


def test_a_fifo_is_refused_without_reading_it(tmp_path):
  import os
  fifo = tmp_path / "photo.png"
  os.mkfifo(fifo)
  with pytest.raises(TfgcError, match="not a regular file"):
    images.read_image(str(fifo))
