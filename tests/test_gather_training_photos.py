"""The training-photo gatherer's readers and duplicate rule, on made-up files
(the Debian packages themselves are downloads, not test fixtures)."""

import io
import os
import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import gather_training_photos as gather  # noqa: E402
from qt_resources import ResourceError, read_rcc  # noqa: E402


def make_rcc(files, version=3):
  """A Qt resource bundle holding {"dir/name": bytes} in one folder, the
  second file zlib-compressed as rcc writes it (qCompress)."""
  names, payload, tree = b"", b"", []
  def name(text):
    nonlocal names
    offset = len(names)
    names += struct.pack(">HI", len(text), 0) + text.encode("utf-16-be")
    return offset
  folder = {path.split("/")[0] for path in files}.pop()
  # Nodes: 0 root, 1 the folder, 2.. its files.
  mtime = b"" if version == 1 else bytes(8)
  tree.append(struct.pack(">IHII", 0, 2, 1, 1) + mtime)
  tree.append(struct.pack(">IHII", name(folder), 2, len(files), 2) + mtime)
  for i, (path, content) in enumerate(files.items()):
    flags = 0
    if i == 1:
      flags, content = 1, struct.pack(">I", len(content)) + zlib.compress(
          content)
    offset = len(payload)
    payload += struct.pack(">I", len(content)) + content
    tree.append(struct.pack(">IHHHI", name(path.split("/")[1]), flags, 0, 0,
                            offset) + mtime)
  header_size = 20 if version < 3 else 24
  tree_bytes = b"".join(tree)
  tree_offset = header_size
  payload_offset = tree_offset + len(tree_bytes)
  names_offset = payload_offset + len(payload)
  header = b"qres" + struct.pack(">IIII", version, tree_offset,
                                 payload_offset, names_offset)
  if version >= 3:
    header += struct.pack(">I", 0)
  return header + tree_bytes + payload + names


@pytest.mark.parametrize("version", [1, 2, 3])
def test_rcc_reader_returns_every_file_with_its_path_and_bytes(version):
  files = {"images/a.webp": b"plain bytes", "images/b.webp": b"x" * 1000}
  assert dict(read_rcc(make_rcc(files, version))) == files


def test_rcc_reader_refuses_other_files_and_bad_offsets():
  with pytest.raises(ResourceError, match="qres"):
    list(read_rcc(b"PK\x03\x04" + bytes(30)))
  data = bytearray(make_rcc({"d/a": b"abc", "d/b": b"def"}))
  struct.pack_into(">I", data, 12, len(data) + 100)  # payload offset
  with pytest.raises(ResourceError, match="outside"):
    list(read_rcc(bytes(data)))
  struct.pack_into(">I", data, 4, 9)
  with pytest.raises(ResourceError, match="version 9"):
    list(read_rcc(bytes(data)))


def jpeg(size, colour):
  buffer = io.BytesIO()
  Image.new("RGB", size, colour).save(buffer, "JPEG")
  return buffer.getvalue()


def test_largest_jpeg_is_carved_from_an_archive():
  data = (b"header" + jpeg((40, 30), "red") + b"\xff\xd8\xff junk"
          + jpeg((400, 300), "blue") + b"trailer")
  assert gather.largest_jpeg(data).size == (400, 300)
  assert gather.largest_jpeg(b"no image here") is None


def encoded(image, kind="PNG"):
  buffer = io.BytesIO()
  image.save(buffer, kind)
  return buffer.getvalue()


def test_cut_outs_and_small_images_are_not_photos():
  side = gather.MIN_SHORT_SIDE
  opaque = Image.new("RGBA", (side, side), (10, 20, 30, 255))
  assert gather.decode("a.png", encoded(opaque)).mode == "RGB"
  cut_out = opaque.copy()
  cut_out.putpixel((0, 0), (0, 0, 0, 0))
  assert gather.decode("a.png", encoded(cut_out)) is None
  small = Image.new("RGB", (side * 2, side - 1))
  assert gather.decode("a.png", encoded(small)) is None


def two_bands(seed):
  """Bright sky over dark ground, with texture (clouds, grass) of 70 grey
  levels in 8-px patches, coarse enough to survive a 32x32 thumbnail."""
  rng = np.random.default_rng(seed)
  pixels = np.full((256, 384), 60.0)
  pixels[:128] = 200.0
  texture = rng.normal(0, 70, (32, 48))
  pixels += np.repeat(np.repeat(texture, 8, axis=0), 8, axis=1)
  return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert(
      "RGB")


def test_near_duplicates_need_both_the_hash_and_the_thumbnail_to_agree():
  photo = gather.Fingerprint(two_bands(seed=0))
  resized = two_bands(seed=0).resize((192, 128), Image.LANCZOS)
  assert photo.matches(gather.Fingerprint(resized))
  # Another photo of the same layout: (nearly) the same average hash, but
  # its texture differs, so it is a distinct photo.
  other = gather.Fingerprint(two_bands(seed=1))
  assert (bin(photo.hash ^ other.hash).count("1")
          <= gather.NEAR_DUPLICATE_BITS)
  assert not photo.matches(other)


def test_contact_sheets_hold_every_photo_on_numbered_sheets(tmp_path):
  images = [Image.new("RGB", (300, 200), (i, 0, 0)) for i in range(50)]
  folder = tmp_path / "sheets"
  gather.write_contact_sheets(images, [str(i) for i in range(50)],
                              str(folder), columns=8, rows=6)
  assert sorted(os.listdir(folder)) == ["sheet000.png", "sheet001.png"]
  with Image.open(folder / "sheet000.png") as sheet:
    assert sheet.size == (8 * 128, 6 * 142)
