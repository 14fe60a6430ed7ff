"""`tfgc compress|decompress|info` and tfgc.codec: round trips, every
error path, no leftovers."""

import dataclasses
import io
import json
import os
import random
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_python
from helpers import assert_clean_failure, cli, cli_here, with_sections
from tfgc import bitstream, codec, zoo
from tfgc.cli import compress
from tfgc.errors import TfgcError

SIZES = [(1, 1), (17, 300), (37, 53)]


def input_images(folder):
  """Every supported input kind at the odd sizes: name -> (H, W)."""
  rng = np.random.default_rng(1)
  expected = {}
  for height, width in SIZES:
    rgb = Image.fromarray(rng.integers(0, 256, (height, width, 3), np.uint8))
    variants = {
        "png": (rgb, {}), "jpg": (rgb, {"quality": 90}),
        "webp": (rgb, {}), "tif": (rgb, {}), "bmp": (rgb, {}),
        "gray.png": (rgb.convert("L"), {}),
        "palette.png": (rgb.convert("P"), {}),
        "rgba.png": (rgb.convert("RGBA"), {}),
        "cmyk.tif": (rgb.convert("CMYK"), {}),
        "16bit.png": (Image.fromarray(
            rng.integers(0, 65536, (height, width), np.uint16)), {}),
    }
    for suffix, (image, kwargs) in variants.items():
      kind, _, extension = suffix.rpartition(".")
      name = f"img{height}x{width}{kind or extension}.{extension}"
      image.save(folder / name, **kwargs)
      expected[name] = (height, width)
  return expected


@pytest.fixture(scope="module")
def tiny_codec(tiny_export):
  return codec.load(tiny_export)


@pytest.fixture(scope="module")
def valid_bitstream(tiny_codec):
  return tiny_codec.compress(
      np.random.default_rng(2).integers(0, 256, (37, 53, 3), np.uint8))


def test_cli_round_trips_every_input_kind_and_odd_size(tiny_export, tmp_path):
  sources = tmp_path / "sources"
  sources.mkdir()
  expected = input_images(sources)
  bitstreams = tmp_path / "bitstreams"
  bitstreams.mkdir()
  status, stdout, stderr = cli("compress", str(sources), "--model",
                               tiny_export, f"--out_dir={bitstreams}")
  assert status == 0, stderr
  assert f"{len(expected)} of {len(expected)} files done" in stdout
  # The summary's rate is all the files' bits over all their pixels.
  total_bytes = sum(f.stat().st_size for f in bitstreams.iterdir())
  total_pixels = sum(h * w for h, w in expected.values())
  assert stdout.splitlines()[-1].endswith(
      f"{total_bytes} bytes of .tfgc, "
      f"{8 * total_bytes / total_pixels:.4f} bpp over all")
  status, stdout, stderr = cli("decompress", str(bitstreams), "--model",
                               tiny_export)
  assert status == 0, stderr
  for name, (height, width) in expected.items():
    decoded = Image.open(bitstreams / (os.path.splitext(name)[0]
                                       + ".tfgc.png"))
    assert decoded.mode == "RGB"
    assert decoded.size == (width, height), name


def test_info_prints_one_json_object(valid_bitstream, tmp_path):
  path = tmp_path / "a.tfgc"
  path.write_bytes(valid_bitstream)
  status, stdout, _ = cli("info", str(path))
  assert status == 0
  header = json.loads(stdout)
  assert header["format_version"] == 1 and header["mode"] == "gc"
  assert (header["width"], header["height"]) == (53, 37)
  assert header["file_bytes"] == len(valid_bitstream)
  assert header["bits_per_pixel"] == pytest.approx(
      8 * len(valid_bitstream) / (53 * 37))


INFO_WITHOUT_TENSORFLOW = """
import sys
from tfgc.cli import compress
status = compress.main(["info", sys.argv[1]])
print(status, "tensorflow" in sys.modules)
"""


def test_info_runs_without_loading_tensorflow(valid_bitstream, tmp_path):
  path = tmp_path / "a.tfgc"
  path.write_bytes(valid_bitstream)
  result = run_python(INFO_WITHOUT_TENSORFLOW, str(path))
  assert result.stdout.split()[-2:] == ["0", "False"]


def test_decoding_prints_nothing_of_tensorflow_unless_verbose(
    tiny_export, valid_bitstream, tmp_path):
  """The `tfgc` command as a user runs it: TF_CPP_MIN_LOG_LEVEL unset, so
  TensorFlow's import would print its start-up lines."""
  source = tmp_path / "a.tfgc"
  source.write_bytes(valid_bitstream)
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  def decode(*flags):
    return subprocess.run(
        [sys.executable, "-m", "tfgc", "decompress", str(source), "--model",
         tiny_export, "--overwrite", *flags], capture_output=True, text=True,
        env=dict(env, PYTHONPATH=REPO), timeout=300, check=True).stderr
  assert decode() == ""
  assert "tensorflow/" in decode("--verbose")  # Its C++ log lines' sources.


@pytest.mark.parametrize("content", [
    b"", b"not a bitstream at all", "truncated", "foreign"])
def test_bad_bitstreams_fail_cleanly(tiny_export, valid_bitstream, tmp_path,
                                     capsys, content):
  if content == "truncated":
    content = valid_bitstream[:len(valid_bitstream) // 2]
  elif content == "foreign":
    parsed = bitstream.parse(valid_bitstream)
    content = bitstream.serialize(bitstream.Bitstream(
        "fedcba9876543210", parsed.mode, parsed.width, parsed.height,
        parsed.sections))
  source = tmp_path / "bad.tfgc"
  source.write_bytes(content)
  arguments = ("decompress", str(source), str(tmp_path / "o.png"), "--model",
               tiny_export)
  status, _, stderr = cli_here(capsys, *arguments)
  assert_clean_failure(status, stderr)
  assert sorted(os.listdir(tmp_path)) == ["bad.tfgc"]
  if content == b"":  # Once as a process: its exit status and stderr.
    status, _, stderr = cli(*arguments)
    assert_clean_failure(status, stderr)


def test_every_prefix_of_a_bitstream_is_a_clean_error(tiny_codec,
                                                       valid_bitstream):
  for size in range(len(valid_bitstream)):
    with pytest.raises(TfgcError):
      tiny_codec.decompress(valid_bitstream[:size])


def mutations(data, count, seed):
  """`count` copies of `data` with 1 to 3 bytes set at random."""
  rng = random.Random(seed)
  for _ in range(count):
    mutated = bytearray(data)
    for _ in range(rng.randint(1, 3)):
      mutated[rng.randrange(len(mutated))] = rng.randrange(256)
    yield bytes(mutated)


SIGTERM_WHILE_WRITING = """
import os
import signal
import sys
import time
from tfgc.cli import compress

def save_image(file, image, suffix):
  file.write(b"the first bytes of a PNG")
  file.flush()
  os.kill(os.getpid(), signal.SIGTERM)
  time.sleep(60)  # Never reached: the signal interrupts first.

compress.save_image = save_image
sys.exit(compress.main(sys.argv[1:]))
"""


def test_sigterm_while_writing_the_png_leaves_nothing(tiny_export,
                                                      valid_bitstream,
                                                      tmp_path):
  source = tmp_path / "a.tfgc"
  source.write_bytes(valid_bitstream)
  result = run_python(SIGTERM_WHILE_WRITING, "decompress", str(source),
                      "--model", tiny_export, check=False, timeout=120)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1] == "tfgc: interrupted"
  assert sorted(os.listdir(tmp_path)) == ["a.tfgc"]


def test_random_mutations_give_a_clean_error_or_an_image(tiny_codec,
                                                         valid_bitstream):
  """Header and payload bytes mutated, the CRC recomputed half of the time
  (so the parsers behind it are reached, not only the checksum)."""
  decoded = 0
  for index, mutated in enumerate(mutations(valid_bitstream, 1000, seed=0)):
    if index % 2:
      body = mutated[:-4]
      mutated = body + zlib.crc32(body).to_bytes(4, "big")
    try:
      image = tiny_codec.decompress(mutated)
    except TfgcError:
      continue
    decoded += 1
    header = codec.info(mutated)
    assert image.shape == (header["height"], header["width"], 3)
  # Measured: about 100 decode (payload bytes that still re-encode to
  # themselves), the rest are refused; both paths are exercised.
  assert 0 < decoded < 500


LATENT_DAMAGE = {
    "empty": lambda s: b"",
    "padded": lambda s: s + b"\x00",
    "overwritten with 0xFF": lambda s: b"\xff" * len(s),
    "one byte more of 0xFF": lambda s: s + b"\xff",
}


@pytest.mark.parametrize("damage", LATENT_DAMAGE)
def test_a_damaged_latent_string_under_a_valid_crc_is_refused(
    tiny_codec, valid_bitstream, damage):
  latent = bitstream.parse(valid_bitstream).sections[0]
  with pytest.raises(TfgcError, match="corrupt bitstream"):
    tiny_codec.decompress(with_sections(
        valid_bitstream, s0=LATENT_DAMAGE[damage](latent)))


def test_a_latent_string_cut_short_or_read_for_a_larger_grid_decodes(
    tiny_codec, valid_bitstream):
  """As the README says: a range code has no end marker and reads missing
  bytes as zeros, so these are exact encodings of other symbols; a grid
  too small for the string is refused."""
  parsed = bitstream.parse(valid_bitstream)
  shorter = with_sections(valid_bitstream, s0=parsed.sections[0][:-1])
  assert tiny_codec.decompress(shorter).shape == (37, 53, 3)
  for height, width in ((37 + 16, 53), (37, 53 + 64)):
    larger = dataclasses.replace(parsed, height=height, width=width)
    assert tiny_codec.decompress(bitstream.serialize(larger)).shape == (
        height, width, 3)
  smaller = dataclasses.replace(parsed, height=37 - 16)
  with pytest.raises(TfgcError, match="corrupt bitstream"):
    tiny_codec.decompress(bitstream.serialize(smaller))


def test_a_side_string_beside_a_factorized_prior_is_refused(tiny_codec,
                                                           valid_bitstream):
  with pytest.raises(TfgcError, match="side string"):
    tiny_codec.decompress(with_sections(valid_bitstream, s1=b"\x00"))


def test_payload_mutations_under_a_valid_crc_give_an_error_or_an_image(
    tiny_codec, valid_bitstream):
  latent = bitstream.parse(valid_bitstream).sections[0]
  decoded = 0
  for mutated in mutations(latent, 200, seed=1):
    try:
      image = tiny_codec.decompress(with_sections(valid_bitstream,
                                                  s0=mutated))
    except TfgcError:
      continue
    decoded += 1
    assert image.shape == (37, 53, 3)
  assert decoded < 200


def test_the_codec_decodes_the_pixels_of_the_exports_own_decoder(
    tiny_export, tiny_codec, valid_bitstream):
  import tensorflow as tf
  parsed = bitstream.parse(valid_bitstream)
  own = tf.saved_model.load(tiny_export).signatures["decompress"](
      latent_string=tf.constant(parsed.sections[0]),
      side_string=tf.constant(parsed.sections[1]),
      image_shape=tf.constant([parsed.height, parsed.width]),
      seed=tf.constant(0))["image"].numpy()
  np.testing.assert_array_equal(tiny_codec.decompress(valid_bitstream), own)


def written_by(model_id, data):
  """`data` as if model `model_id` had written it."""
  return bitstream.serialize(dataclasses.replace(bitstream.parse(data),
                                                 model_id=model_id))


def test_compress_takes_an_array_a_path_or_the_files_bytes(tiny_codec,
                                                          tmp_path):
  image = np.random.default_rng(5).integers(0, 256, (20, 36, 3), np.uint8)
  path = tmp_path / "a.png"
  Image.fromarray(image).save(path)
  expected = tiny_codec.compress(image)
  assert tiny_codec.compress(str(path)) == expected
  assert tiny_codec.compress(path.read_bytes()) == expected
  with pytest.raises(codec.TfgcError) as refusal:
    tiny_codec.compress(b"not an image")
  assert str(refusal.value) == (
      "the image: not a readable image (cannot identify image file)")


def test_a_bitstream_from_another_model_names_it(tiny_codec, valid_bitstream):
  with pytest.raises(codec.ModelError, match="fedcba9876543210"):
    tiny_codec.decompress(written_by("fedcba9876543210", valid_bitstream))
  bundled = zoo.model_id("gc-small-c4")
  with pytest.raises(codec.ModelError) as refusal:
    tiny_codec.decompress(written_by(bundled, valid_bitstream))
  assert str(refusal.value) == (
      f"the file was written by model gc-small-c4 ({bundled}), not by "
      f"{tiny_codec.model_id}; decode it with gc-small-c4 "
      "(--model=gc-small-c4)")


def test_a_file_of_no_bundled_model_is_refused_before_any_loads(
    valid_bitstream, tmp_path, capsys):
  source = tmp_path / "a.tfgc"
  source.write_bytes(written_by("fedcba9876543210", valid_bitstream))
  status, _, stderr = cli_here(capsys, "decompress", str(source))
  assert_clean_failure(status, stderr)
  assert stderr.strip() == (
      f"tfgc: {source}: the file was written by model "
      "fedcba9876543210, which is not bundled: pass its export directory "
      "with --model")


def test_a_header_declaring_a_huge_image_is_refused(tiny_codec):
  huge = bitstream.serialize(bitstream.Bitstream(
      "0" * 16, "gc", 65535, 65535, (b"\x00" * 8, b"")))
  with pytest.raises(TfgcError, match="exceeds the limit"):
    tiny_codec.decompress(huge)


def test_a_side_beyond_the_format_is_refused_before_encoding(tiny_codec):
  with pytest.raises(TfgcError, match="up to 65535 pixels"):
    tiny_codec.compress(np.zeros((1, 65536, 3), np.uint8))


def test_a_codec_without_a_pixel_limit_compresses(tiny_export):
  unlimited = codec.load(tiny_export, max_pixels=None)
  data = unlimited.compress(np.zeros((20, 30, 3), np.uint8))
  assert unlimited.decompress(data).shape == (20, 30, 3)


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_a_fifo_input_is_refused_before_any_model_loads(tmp_path, capsys,
                                                        command):
  fifo = tmp_path / ("photo.png" if command == "compress" else "photo.tfgc")
  os.mkfifo(fifo)
  assert compress.main([command, str(fifo), "--model", "no-such-model"]) == 1
  assert "not a regular file" in capsys.readouterr().err


def test_an_unreadable_image_is_named_before_any_model_loads(tmp_path,
                                                            capsys):
  source = tmp_path / "a.png"
  source.write_bytes(b"not an image")
  assert compress.main(["compress", str(source), "--model",
                        "no-such-model"]) == 1
  assert f"{source}: not a readable image" in capsys.readouterr().err


def test_an_image_over_pillows_bomb_warning_is_refused_in_one_line(
    tmp_path):
  source = tmp_path / "big.png"
  Image.new("1", (12000, 8000)).save(source)  # 96 Mpx: Pillow warns.
  status, _, stderr = cli("compress", str(source), "--model",
                          "no-such-model")
  assert_clean_failure(status, stderr)
  assert f"{source}: 12000x8000 exceeds" in stderr and "--max_pixels" in stderr


@pytest.mark.parametrize("command, suffix, flags, refusal", [
    ("compress", ".png", [], " is 1x70000: the .tfgc format holds sides"),
    ("decompress", ".tfgc", ["--max_pixels=1000"],
     ": declared image size 53x37 exceeds")])
def test_every_refusal_in_a_batch_names_its_file(
    valid_bitstream, tmp_path, capsys, command, suffix, flags, refusal):
  sources = [tmp_path / f"{name}{suffix}" for name in "ab"]
  for source in sources:
    if suffix == ".png":
      Image.new("L", (1, 70000)).save(source)
    else:
      source.write_bytes(valid_bitstream)
  assert compress.main([command, str(tmp_path), "--model", "no-such-model",
                        *flags]) == 1
  captured = capsys.readouterr()
  assert captured.out.splitlines()[-1] == ("0 of 2 files done, 0 bytes of "
                                           ".tfgc, 2 failed")
  lines = captured.err.splitlines()
  assert [line.partition(refusal)[0] for line in lines] == [
      f"tfgc: {source}" for source in sources]


def test_an_output_in_a_missing_folder_is_named_before_any_model_loads(
    tmp_path, capsys):
  source = tmp_path / "a.png"
  Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(source)
  assert compress.main(["compress", str(source),
                        str(tmp_path / "missing" / "a.tfgc"),
                        "--model", "no-such-model"]) == 1
  assert "no such folder" in capsys.readouterr().err


def test_inputs_that_would_share_an_output_are_refused(tmp_path, capsys):
  for name in ("a.png", "a.jpg"):
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / name)
  assert compress.main(["compress", str(tmp_path), "--model", "x"]) == 1
  assert "would all write" in capsys.readouterr().err
  assert sorted(os.listdir(tmp_path)) == ["a.jpg", "a.png"]


def test_existing_outputs_are_kept_unless_overwrite(tiny_export, tmp_path,
                                                    capsys):
  source = tmp_path / "a.png"
  Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(source)
  target = tmp_path / "a.tfgc"
  target.write_bytes(b"precious")
  assert compress.main(["compress", str(source), "--model",
                        tiny_export]) == 1
  assert "--overwrite" in capsys.readouterr().err
  assert target.read_bytes() == b"precious"
  assert compress.main(["compress", str(source), "--model", tiny_export,
                        "--overwrite"]) == 0
  assert bitstream.parse(target.read_bytes()).width == 20
  assert sorted(os.listdir(tmp_path)) == ["a.png", "a.tfgc"]


def test_batch_continues_past_bad_files_and_fails_at_the_end(
    tiny_export, tmp_path, capsys):
  Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(tmp_path / "a.png")
  (tmp_path / "b.png").write_bytes(b"not an image")
  assert compress.main(["compress", str(tmp_path), "--model",
                        tiny_export]) == 1
  captured = capsys.readouterr()
  assert "1 of 2 files done" in captured.out and "1 failed" in captured.out
  assert "b.png" in captured.err
  assert sorted(os.listdir(tmp_path)) == ["a.png", "a.tfgc", "b.png"]


def test_without_the_default_model_the_error_says_how_to_pass_one(
    tmp_path, capsys, monkeypatch):
  monkeypatch.setattr(zoo, "DEFAULT", "not-installed")
  source = tmp_path / "a.png"
  Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(source)
  assert compress.main(["compress", str(source)]) == 1
  assert "--model" in capsys.readouterr().err


def test_seed_changes_synthesised_detail(tiny_codec, valid_bitstream):
  first = tiny_codec.decompress(valid_bitstream, seed=1)
  np.testing.assert_array_equal(first,
                                tiny_codec.decompress(valid_bitstream, seed=1))
  assert not np.array_equal(first,
                            tiny_codec.decompress(valid_bitstream, seed=2))


@pytest.mark.parametrize("flag", ["--max_pixels=-5", "--memory_budget_mib=0",
                                  "--max_pixels_per_byte=x"])
def test_limits_below_one_are_refused_by_the_parser(flag, tmp_path, capsys):
  with pytest.raises(SystemExit) as exit_info:
    compress.main(["decompress", str(tmp_path / "a.tfgc"), flag])
  assert exit_info.value.code == 2
  assert "must be a whole number >= 1" in capsys.readouterr().err


def test_decompress_never_defaults_to_the_originals_name(tiny_export,
                                                         tmp_path, capsys):
  photo = tmp_path / "photo.png"
  Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(photo)
  original = photo.read_bytes()
  for command, source in (("compress", photo),
                          ("decompress", tmp_path / "photo.tfgc")):
    assert cli_here(capsys, command, str(source), "--model",
                    tiny_export)[0] == 0
  assert photo.read_bytes() == original
  assert Image.open(tmp_path / "photo.tfgc.png").size == (30, 20)


def test_a_second_argument_is_an_output_only_when_named_like_one(
    tiny_export, tmp_path, capsys):
  for name in ("a", "b"):
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(
        tmp_path / f"{name}.png")
  a, b = str(tmp_path / "a.png"), str(tmp_path / "b.png")
  assert cli_here(capsys, "compress", a, b, "--model", tiny_export)[0] == 0
  assert cli_here(capsys, "compress", a, str(tmp_path / "out.tfgc"),
                  "--model", tiny_export)[0] == 0
  assert sorted(os.listdir(tmp_path)) == ["a.png", "a.tfgc", "b.png",
                                          "b.tfgc", "out.tfgc"]


@pytest.mark.parametrize("suffix, image_format", [
    (".png", "PNG"), (".webp", "WEBP"), (".jpg", "JPEG"), (".tif", "TIFF")])
def test_decompress_writes_the_format_of_the_outputs_suffix(
    tiny_export, tiny_codec, valid_bitstream, tmp_path, capsys, suffix,
    image_format):
  source = tmp_path / "a.tfgc"
  source.write_bytes(valid_bitstream)
  target = tmp_path / f"decoded{suffix}"
  assert cli_here(capsys, "decompress", str(source), "-o", str(target),
                  "--model", tiny_export)[0] == 0
  with Image.open(target) as decoded:
    assert decoded.format == image_format
    pixels = np.asarray(decoded.convert("RGB"))
  if image_format != "JPEG":  # Lossless: the decoder's pixels.
    np.testing.assert_array_equal(pixels,
                                  tiny_codec.decompress(valid_bitstream))


def test_out_dir_collects_the_outputs(tiny_export, tmp_path, capsys):
  """--out_dir is made if missing; flags may come between file names."""
  (tmp_path / "photos").mkdir()
  for name in ("a.png", "b.jpg"):
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(
        tmp_path / "photos" / name)
  for command, source, folder in (("compress", "photos", "coded"),
                                  ("decompress", "coded", "decoded")):
    assert cli_here(capsys, command, "--model", tiny_export,
                    str(tmp_path / source), "--out_dir",
                    str(tmp_path / folder))[0] == 0
  assert sorted(os.listdir(tmp_path / "decoded")) == ["a.tfgc.png",
                                                      "b.tfgc.png"]
  # A folder's decodings are not compressed again.
  os.replace(tmp_path / "decoded" / "a.tfgc.png",
             tmp_path / "photos" / "a.tfgc.png")
  status, _, stderr = cli_here(capsys, "compress", str(tmp_path / "photos"),
                               "--out_dir", str(tmp_path / "again"),
                               "--model", tiny_export)
  assert status == 0
  assert "1 decodings (NAME.tfgc.png ...) left out" in stderr
  assert sorted(os.listdir(tmp_path / "again")) == ["a.tfgc", "b.tfgc"]


@pytest.mark.parametrize("arguments, message", [
    (["compress", "a.png", "b.tfgc", "c.png"],
     "b.tfgc: this command reads images (tfgc decompress decodes .tfgc "
     "files) and writes a .tfgc file: to name the output, give it after "
     "one input or as -o"),
    (["decompress", "a.tfgc", "b.png", "c.tfgc"], "b.png: this command "
     "reads .tfgc files (tfgc compress makes them from images) and writes "
     "an image (.png, .jpg, .webp, .tif, .bmp)"),
    (["decompress", "a.png"], "a.png: this command reads .tfgc files"),
    (["compress", "a.png", "-o", "a.jpg"], "a.jpg: name the output as a "
     ".tfgc file, or - for stdout"),
    (["decompress", "a.tfgc", "-o", "a.tfgc.gif"], "a.tfgc.gif: name the "
     "output as an image"),
    (["compress", "a.png", "b.png", "-o", "out.tfgc"],
     "out.tfgc takes one input file; for several, drop it"),
    (["compress", ".", "out.tfgc"], "out.tfgc takes one input file"),
    (["compress", "-", "--out_dir", "."], "stdin has no name to put in "
     "--out_dir: name its output with -o"),
    (["compress", "a.png", "--out_dir", "/proc/tfgc-out"],
     "--out_dir=/proc/tfgc-out: no such file or directory"),
    (["decompress", "a.tfgc", "out.gif"], "out.gif: no such input, nor an "
     "output name: name the output as an image (.png, .jpg"),
    # Refused before a.png is coded, not after (a.tfgc written, then
    # "out.png: no such file").
    (["compress", "a.png", "out.png"], "out.png: no such input, nor an "
     "output name: name the output as a .tfgc file"),
    (["decompress", "a.tfgc", "out.tfgc"], "out.tfgc: no such input, nor "
     "an output name: name the output as an image"),
])
def test_ambiguous_or_impossible_outputs_are_refused(
    tmp_path, capsys, monkeypatch, arguments, message):
  monkeypatch.chdir(tmp_path)
  Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save("a.png")
  status, _, stderr = cli_here(capsys, *arguments, "--model",
                               "no-such-model")
  assert_clean_failure(status, stderr)
  assert stderr.startswith(f"tfgc: {message}")
  assert os.listdir() == ["a.png"]


def piped(monkeypatch, capsysbinary, data, *arguments):
  """compress.py's `main` with `data` on stdin: (status, stdout bytes,
  stderr text)."""
  monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
  status = compress.main(list(arguments))
  captured = capsysbinary.readouterr()
  return status, captured.out, captured.err.decode()


def test_dash_reads_stdin_and_writes_stdout(tiny_export, tmp_path,
                                            monkeypatch, capsysbinary):
  png = io.BytesIO()
  Image.fromarray(np.full((20, 30, 3), [90, 60, 30], np.uint8)).save(png,
                                                                     "PNG")
  status, encoded, stderr = piped(monkeypatch, capsysbinary, png.getvalue(),
                                  "compress", "-", "--model", tiny_export)
  assert status == 0, stderr
  assert stderr.startswith("<stdin> -> <stdout>: 30x20, ")
  assert codec.info(encoded)["width"] == 30
  status, decoded, stderr = piped(monkeypatch, capsysbinary, encoded,
                                  "decompress", "-", "-", "--model",
                                  tiny_export)
  assert status == 0, stderr
  assert Image.open(io.BytesIO(decoded)).size == (30, 20)
  status, _, stderr = piped(monkeypatch, capsysbinary, b"not an image",
                            "compress", "-", "--model", tiny_export)
  assert_clean_failure(status, stderr)
  assert stderr.strip() == ("tfgc: <stdin>: not a readable image (cannot "
                            "identify image file)")


def test_binary_output_is_not_written_to_a_terminal(tmp_path, capsys,
                                                    monkeypatch):
  monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
  Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "a.png")
  status, _, stderr = cli_here(capsys, "compress", str(tmp_path / "a.png"),
                               "-", "--model", "no-such-model")
  assert_clean_failure(status, stderr)
  assert "will not write binary data to a terminal" in stderr


def test_version_names_the_package_and_the_format(capsys):
  from tfgc import __version__
  with pytest.raises(SystemExit) as exit_info:
    compress.main(["--version"])
  assert exit_info.value.code == 0
  assert capsys.readouterr().out.strip() == (
      f"tfgc {__version__} (.tfgc format {bitstream.VERSION})")


def test_the_help_examples_continue_their_lines(capsys):
  for command in ("compress", "decompress", "info"):  # Each one formats.
    with pytest.raises(SystemExit) as exit_info:
      compress.main([command, "--help"])
    assert exit_info.value.code == 0
  capsys.readouterr()
  with pytest.raises(SystemExit):
    compress.main(["--help"])
  lines = capsys.readouterr().out.splitlines()
  continued = [i for i, line in enumerate(lines) if line.endswith(" \\")]
  assert len(continued) >= 2
  for i in continued:
    assert lines[i + 1].startswith("        --"), lines[i:i + 2]


def test_seed_warns_on_a_model_without_noise_channels(
    tiny_export, valid_bitstream, tmp_path, capsys):
  from tfgc import export
  from tfgc.config import preset
  from tfgc.model import GenerativeCompressionModel
  noiseless = str(tmp_path / "noiseless")
  export.export(GenerativeCompressionModel(
      preset("tiny").replace(noise_channels=0)), noiseless)
  data = codec.load(noiseless).compress(np.full((20, 30, 3), 90, np.uint8))
  source = tmp_path / "a.tfgc"
  source.write_bytes(data)
  for flags, warned in ((["--seed=3"], True), ([], False)):
    status, _, stderr = cli_here(capsys, "decompress", str(source),
                                 "--model", noiseless, "--overwrite", *flags)
    assert status == 0
    assert ("warning: --seed changes nothing: " in stderr) == warned
  source.write_bytes(valid_bitstream)
  status, _, stderr = cli_here(capsys, "decompress", str(source), "--model",
                               tiny_export, "--overwrite", "--seed=3")
  assert status == 0 and "warning" not in stderr


def test_the_bundled_models_have_no_noise_channels_as_seeds_help_says():
  for name in zoo.names():
    with open(os.path.join(zoo.path(name), "model.json")) as f:
      assert json.load(f)["config"]["noise_channels"] == 0, name


def test_a_greyscale_photo_is_warned_of_and_decodes_grey_on_request(
    tiny_export, small_photo, tmp_path, capsys):
  photo = tmp_path / "photo.png"
  Image.fromarray(small_photo).convert("L").save(photo)
  status, _, stderr = cli_here(capsys, "compress", str(photo), "--model",
                               tiny_export)
  assert status == 0
  assert stderr == (f"tfgc: warning: {photo} is greyscale and the "
                    "model codes colour, so its decoding may be tinted: "
                    "decompress it with --grayscale\n")
  for flags, mode in (([], "RGB"), (["--grayscale"], "L")):
    assert cli_here(capsys, "decompress", str(tmp_path / "photo.tfgc"),
                    "--model", tiny_export, "--overwrite", *flags)[0] == 0
    with Image.open(tmp_path / "photo.tfgc.png") as decoded:
      assert (decoded.mode, decoded.size) == (mode, (64, 64))
  Image.fromarray(small_photo).save(photo)
  assert cli_here(capsys, "compress", str(photo), "--model", tiny_export,
                  "--overwrite")[2] == ""


def test_a_mistake_shows_its_commands_usage_and_info_names_the_file(
    tmp_path, capsys):
  with pytest.raises(SystemExit):
    compress.main(["compress", "a.png", "--qualty=3"])
  assert capsys.readouterr().err.startswith("usage: tfgc compress ")
  (tmp_path / "notes.txt").write_text("not an image")
  status, _, stderr = cli_here(capsys, "info", str(tmp_path / "notes.txt"))
  assert_clean_failure(status, stderr)
  assert stderr.startswith(f"tfgc: {tmp_path / 'notes.txt'}: not a .tfgc")
