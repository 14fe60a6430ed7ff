"""Selective compression (SC) end to end with tiny models: rates, what is
transmitted, label maps in the bitstream, quality of preserved regions."""

import dataclasses
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

from helpers import assert_clean_failure, cli, cli_here, with_sections
from tfgc import bitstream, codec, export, labelmaps, metrics
from tfgc.cli import compress
from tfgc.config import Recipe, latent_shape, preset
from tfgc.errors import TfgcError
from tfgc.labellers.standin import cluster_labels
from tfgc.model import GenerativeCompressionModel
from tfgc.networks import latent_keep_mask

CLASSES = 4
SC_TINY = preset("tiny").replace(mode="sc", num_classes=CLASSES)


@pytest.fixture(scope="module")
def sc_export(tmp_path_factory):
  tf.keras.utils.set_random_seed(3)
  path = str(tmp_path_factory.mktemp("sc_export"))
  export.export(GenerativeCompressionModel(SC_TINY), path)
  return path


@pytest.fixture(scope="module")
def sc_codec(sc_export):
  return codec.load(sc_export)


@pytest.fixture(scope="module")
def scene(photo):
  """A 128x192 photo crop and its stand-in labels: uint8 [H, W, 3], [H, W]."""
  image = np.ascontiguousarray(photo[100:228, 150:342])
  return image, cluster_labels(image, CLASSES)


def left_columns(shape, fraction):
  """bool [H, W], True on the left `fraction` of the columns."""
  mask = np.zeros(shape, bool)
  mask[:, :round(shape[1] * fraction)] = True
  return mask


def test_bpp_falls_as_the_synthesised_fraction_grows(sc_codec, scene):
  image, labels = scene
  sizes, latent_bytes = [], []
  for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
    data = sc_codec.compress(
        image, labels, preserve=~left_columns(labels.shape, fraction),
        allow_empty=True)
    header = codec.info(data)
    sizes.append(header["file_bytes"])
    latent_bytes.append(header["latent_bytes"])
  assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 5
  assert latent_bytes[0] > 0 and latent_bytes[-1] == 0


def test_synthesised_regions_carry_no_latent_bits(sc_codec, scene):
  image, labels = scene
  synthesised = left_columns(labels.shape, 0.5)  # 6 of 12 latent columns.
  # Pixels further from the preserved half than E's receptive field
  # (about 70 px) reach no transmitted latent: changing them changes
  # nothing in the file, unless they are preserved.
  changed = image.copy()
  changed[:, :16] = 255 - changed[:, :16]
  for preserve, same in ((~synthesised, True),
                         (np.ones_like(synthesised), False)):
    first, second = (bitstream.parse(sc_codec.compress(
        x, labels, preserve=preserve)) for x in (image, changed))
    assert (first.sections == second.sections) == same
  analyzed = sc_codec._model.signatures["analyze"](
      image=tf.constant(image), labels=tf.constant(labels),
      synthesis_mask=tf.constant(synthesised, tf.uint8))
  keep = analyzed["latent_mask"].numpy()
  np.testing.assert_array_equal(keep, latent_keep_mask(
      synthesised[None], 16).numpy()[0, ..., 0])
  assert keep.sum() == keep.size // 2
  assert np.all(analyzed["symbols"].numpy()[keep == 0] == 0)


def test_label_map_round_trips_bit_exactly_through_the_bitstream(
    sc_codec, scene):
  image, labels = scene
  parsed = bitstream.parse(sc_codec.compress(image, labels, synthesize=[1]))
  latent, side, label_map, mask = parsed.sections
  from tfgc import labelmaps
  np.testing.assert_array_equal(
      labelmaps.decode_label_map(label_map, labels.shape, CLASSES), labels)
  np.testing.assert_array_equal(
      labelmaps.decode_mask(mask, (8, 12)),
      latent_keep_mask((labels == 1)[None], 16).numpy()[0, ..., 0] > 0)


def test_sc_decodes_identically_through_the_api_and_the_signatures(
    sc_codec, scene):
  image, labels = scene
  data = sc_codec.compress(image, labels, synthesize=[0, 2])
  decoded = sc_codec.decompress(data, seed=4)
  strings = sc_codec._model.signatures["compress"](
      image=tf.constant(image), labels=tf.constant(labels),
      synthesis_mask=tf.constant(np.isin(labels, [0, 2]), tf.uint8))
  direct = sc_codec._model.signatures["decompress"](
      **dict(strings, seed=tf.constant(4)))["image"].numpy()
  np.testing.assert_array_equal(decoded, direct)
  assert decoded.shape == image.shape


def test_everything_synthesised_still_decodes(sc_codec, scene):
  image, labels = scene
  data = sc_codec.compress(image, labels, synthesize=range(CLASSES),
                           allow_empty=True)
  assert codec.info(data)["latent_bytes"] == 0
  assert sc_codec.decompress(data).shape == image.shape


def test_a_latent_mask_that_disagrees_with_the_latent_string_is_handled(
    sc_codec, scene):
  image, labels = scene
  data = sc_codec.compress(image, labels, synthesize=[1])
  from tfgc import labelmaps
  none_kept = with_sections(data, s3=labelmaps.encode_mask(
      np.zeros((8, 12), np.uint8)))
  with pytest.raises(TfgcError, match="corrupt bitstream"):
    sc_codec.decompress(none_kept)
  # More positions than were coded: the string is also the encoding of its
  # symbols followed by zero symbols (the coder drops trailing zero bytes).
  all_kept = with_sections(data, s3=labelmaps.encode_mask(
      np.ones((8, 12), np.uint8)))
  assert sc_codec.decompress(all_kept).shape == image.shape


def painted(model_id, width, height):
  """The SC file of an image of one class, all of it synthesised: a
  uniform label map, an empty latent mask, no latents."""
  return bitstream.serialize(bitstream.Bitstream(
      model_id, "sc", width, height,
      (b"", b"", labelmaps.encode_label_map(np.zeros((height, width),
                                                     np.uint8)),
       labelmaps.encode_mask(np.zeros(latent_shape((height, width)))))))


def test_a_tiny_file_declaring_a_huge_image_is_refused_before_decoding(
    sc_codec, sc_export, tmp_path):
  assert painted(sc_codec.model_id, 64, 64) == sc_codec.compress(
      np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64), np.uint8),
      synthesize=range(CLASSES), allow_empty=True)
  huge = painted(sc_codec.model_id, 24112, 2067)  # 99 bytes for 50 Mpx.
  needed = -(-24112 * 2067 // len(huge))
  with pytest.raises(TfgcError, match=f"--max_pixels_per_byte={needed}$"):
    sc_codec.decompress(huge)
  source = tmp_path / "huge.tfgc"
  source.write_bytes(huge)
  # Decoding it took 90 s with a bundled model: refused before any loads.
  status, _, stderr = cli("decompress", str(source), "--model", sc_export,
                          timeout=60)
  assert_clean_failure(status, stderr)
  assert f"--max_pixels_per_byte={needed}" in stderr
  assert sorted(os.listdir(tmp_path)) == ["huge.tfgc"]


def test_decoding_a_file_over_the_pixels_per_byte_limit_needs_consent(
    sc_codec, sc_export, tmp_path, capsys):
  source = tmp_path / "painted.tfgc"
  source.write_bytes(painted(sc_codec.model_id, 256, 256))  # 1,040 a byte.
  arguments = ("decompress", str(source), "--model", sc_export)
  status, _, stderr = cli_here(capsys, *arguments,
                               "--max_pixels_per_byte=1000")
  assert_clean_failure(status, stderr)
  assert "--max_pixels_per_byte=1041" in stderr
  assert cli_here(capsys, *arguments, "--max_pixels_per_byte=1041")[0] == 0
  assert sc_codec.decompress(source.read_bytes()).shape == (256, 256, 3)


def test_compress_warns_when_its_file_needs_consent_to_decode(
    sc_codec, monkeypatch):
  image, labels = np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64),
                                                            np.uint8)
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    data = sc_codec.compress(image, labels, synthesize=range(CLASSES),
                             allow_empty=True)
  needed = -(-64 * 64 // len(data))
  monkeypatch.setattr(codec, "DEFAULT_MAX_PIXELS_PER_BYTE", needed - 1)
  with pytest.warns(UserWarning, match=f"--max_pixels_per_byte={needed} "):
    assert sc_codec.compress(image, labels, synthesize=range(CLASSES),
                             allow_empty=True) == data


def webp_header_declaring(width, height):
  """The first bytes of a lossless WebP of width x height: no pixels."""
  import struct
  payload = b"\x2f" + struct.pack("<I", (width - 1) | ((height - 1) << 14))
  chunk = b"VP8L" + struct.pack("<I", len(payload) + 16) + payload
  return (b"RIFF" + struct.pack("<I", 4 + len(chunk) + 16) + b"WEBP" + chunk
          + bytes(16))


def test_a_label_map_declaring_a_huge_webp_is_a_clean_error(sc_codec,
                                                            scene):
  image, labels = scene
  data = sc_codec.compress(image, labels, synthesize=[1])
  bomb = b"\x10" + webp_header_declaring(16383, 16383)
  with pytest.raises(TfgcError, match="label map does not decode"):
    sc_codec.decompress(with_sections(data, s2=bomb))


def test_a_file_whose_mode_is_not_its_models_is_refused(
    sc_codec, scene, tiny_export, tmp_path):
  image, labels = scene
  sc_file = bitstream.parse(sc_codec.compress(image, labels))
  gc_codec = codec.load(tiny_export)
  gc_file = bitstream.parse(gc_codec.compress(image))
  as_gc = dataclasses.replace(sc_file, mode="gc",
                              sections=sc_file.sections[:2])
  as_sc = dataclasses.replace(gc_file, mode="sc",
                              sections=gc_file.sections + sc_file.sections[2:])
  for model, relabelled in ((sc_codec, as_gc), (gc_codec, as_sc)):
    with pytest.raises(TfgcError, match="corrupt bitstream: mode"):
      model.decompress(bitstream.serialize(relabelled))


def psnr_where(a, b, mask):
  error = (a.astype(np.float64) - b)[mask]
  return 10 * np.log10(255.0 ** 2 / np.mean(error ** 2))


def fitted(config, inputs, steps=200):
  """`config` fitted to one example on distortion and rate alone."""
  tf.keras.utils.set_random_seed(0)
  model = GenerativeCompressionModel(config, Recipe(
      learning_rate=2e-3, gan_weight=0.0, lambda_feature_matching=0.0))
  model.compile()
  model.fit(tf.data.Dataset.from_tensors(inputs).repeat(), epochs=1,
            steps_per_epoch=steps, verbose=0)
  return model


def decoded_and_bits(model, inputs):
  """The fitted model's decoded image, uint8 [H, W, 3], and its rate in
  bits (the model itself: test_export.py checks that exports decode its
  pixels)."""
  reconstruction = model(inputs)
  image = np.round(reconstruction.images[0].numpy() * 255.0)
  return image.astype(np.uint8), float(reconstruction.bits[0])


def test_preserved_regions_are_as_good_as_gc_at_a_comparable_rate(
    small_photo):
  image = small_photo
  labels = cluster_labels(image, CLASSES)
  synthesised = left_columns(labels.shape, 0.5)
  # Each model is fitted to this photo: GC to all of it, SC with half of
  # it synthesised (the rate of its preserved half is GC's per pixel).
  sc_inputs = dict(image=image[None], labels=labels[None],
                   synthesis_mask=synthesised[None])
  gc_decoded, gc_bits = decoded_and_bits(fitted(preset("tiny"), image[None]),
                                         image[None])
  sc_decoded, sc_bits = decoded_and_bits(fitted(SC_TINY, sc_inputs),
                                         sc_inputs)
  preserved = ~synthesised
  gc_psnr = psnr_where(image, gc_decoded, preserved)
  sc_psnr = psnr_where(image, sc_decoded, preserved)
  # Measured: GC 19.9 dB, SC 22.0 dB on the preserved half after 200
  # steps each (21.2 and 22.7 after 300).
  assert sc_psnr > gc_psnr - 1.0, (sc_psnr, gc_psnr)
  assert 0 < sc_bits < gc_bits


def test_cli_round_trips_sc_with_labels_and_class_names(sc_export, scene,
                                                        tmp_path):
  from PIL import Image
  image, labels = scene
  Image.fromarray(image).save(tmp_path / "photo.png")
  Image.fromarray(labels).save(tmp_path / "labels.png")
  (tmp_path / "classes.txt").write_text("dark\nmid\nlight\nwhite\n")
  assert compress.main([
      "compress", str(tmp_path / "photo.png"), str(tmp_path / "p.tfgc"),
      f"--model={sc_export}", f"--labels={tmp_path / 'labels.png'}",
      "--synthesize=dark,3", f"--classes={tmp_path / 'classes.txt'}"]) == 0
  assert compress.main(["decompress", str(tmp_path / "p.tfgc"),
                        str(tmp_path / "p.png"), f"--model={sc_export}"]) == 0
  assert np.asarray(Image.open(tmp_path / "p.png")).shape == image.shape


@pytest.mark.parametrize("labels_kind,flags,message", [
    ("wrong_size", [], "give the label map of this image"),
    ("out_of_range", [], "class id 9 is out of range"),
    ("rgb", [], "single-channel"),
    ("good", ["--synthesize=5"], "class id 5 is out of range"),
    ("none", [], "needs the image's label map"),
])
def test_bad_sc_inputs_fail_with_one_line_and_no_output(
    sc_export, scene, tmp_path, capsys, labels_kind, flags, message):
  from PIL import Image
  image, labels = scene
  Image.fromarray(image).save(tmp_path / "photo.png")
  maps = dict(wrong_size=labels[:-1], out_of_range=labels * 0 + 9,
              rgb=image, good=labels)
  args = ["compress", str(tmp_path / "photo.png"), str(tmp_path / "o.tfgc"),
          f"--model={sc_export}", *flags]
  if labels_kind in maps:
    Image.fromarray(maps[labels_kind]).save(tmp_path / "labels.png")
    args.append(f"--labels={tmp_path / 'labels.png'}")
  status, _, stderr = cli_here(capsys, *args)
  assert_clean_failure(status, stderr)
  assert message in stderr
  assert not (tmp_path / "o.tfgc").exists()


def test_cli_refuses_a_file_that_keeps_nothing_unless_allowed(
    sc_export, scene, tmp_path, capsys):
  from PIL import Image
  image, _ = scene
  Image.fromarray(image).save(tmp_path / "photo.png")
  Image.fromarray(np.zeros(image.shape[:2], np.uint8)).save(
      tmp_path / "labels.png")
  args = ["compress", str(tmp_path / "photo.png"), str(tmp_path / "o.tfgc"),
          f"--model={sc_export}", f"--labels={tmp_path / 'labels.png'}",
          "--keep=2"]
  status, _, stderr = cli_here(capsys, *args)
  assert_clean_failure(status, stderr)
  assert stderr.strip() == (
      f"tfgc: {tmp_path / 'photo.png'}: --keep=2 keeps nothing: the "
      f"label map {tmp_path / 'labels.png'} holds class 0 100% (no class "
      "2); pass --allow_empty to write it anyway")
  assert not (tmp_path / "o.tfgc").exists()
  assert cli_here(capsys, *args, "--allow_empty")[0] == 0
  assert codec.info((tmp_path / "o.tfgc").read_bytes())["latent_bytes"] == 0


def test_gc_models_refuse_label_maps(tiny_export, tmp_path, capsys):
  from PIL import Image
  Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "x.png")
  assert compress.main(["compress", str(tmp_path / "x.png"),
                        f"--model={tiny_export}", "--synthesize=1"]) == 1
  assert "GC model" in capsys.readouterr().err


SC_SIGNATURES = """
import sys
import numpy as np
import tensorflow as tf
if sys.argv[2] == "full":
  import tensorflow_compression
model = tf.saved_model.load(sys.argv[1])
rng = np.random.default_rng(0)
inputs = dict(image=tf.constant(rng.integers(0, 256, (37, 53, 3), np.uint8)),
              labels=tf.constant(rng.integers(0, 4, (37, 53), np.uint8)),
              synthesis_mask=tf.constant(
                  np.arange(53)[None].repeat(37, 0) < 20, tf.uint8))
names = ("compress", "decompress") if sys.argv[2] == "full" else (
    "analyze", "synthesize")
first, second = (model.signatures[n] for n in names)
image = second(**first(**inputs))["image"].numpy()
assert image.shape == (37, 53, 3) and image.dtype == np.uint8
loaded = [m for m in sys.modules if m.startswith("tfgc")]
assert not loaded, loaded
assert ("tensorflow_compression" in sys.modules) == (sys.argv[2] == "full")
np.save(sys.argv[3], image)
"""


def test_sc_signatures_run_without_tfgc_and_serving_without_tfc(sc_export,
                                                               tmp_path):
  from conftest import run_python
  run_python(SC_SIGNATURES, sc_export, "full", str(tmp_path / "full.npy"))
  run_python(SC_SIGNATURES, os.path.join(sc_export, export.SERVING_SUBDIR),
             "serving", str(tmp_path / "serving.npy"))
  np.testing.assert_array_equal(np.load(tmp_path / "full.npy"),
                                np.load(tmp_path / "serving.npy"))


def test_cli_labels_each_photo_with_the_person_labeller(sc_export, photo,
                                                        tmp_path, capsys):
  from PIL import Image
  Image.fromarray(photo[::2, ::2]).save(tmp_path / "astronaut.png")
  sizes = {}
  for name, flags in (("all", []), ("background", ["--synthesize=background"])):
    out = tmp_path / f"{name}.tfgc"
    assert compress.main(["compress", str(tmp_path / "astronaut.png"),
                          str(out), f"--model={sc_export}",
                          "--labeller=person", *flags]) == 0
    sizes[name] = codec.info(out.read_bytes())
  assert sizes["all"]["label_map_bytes"] > 0
  # She is about half the picture: the background's latents are not sent.
  assert sizes["background"]["latent_bytes"] < 0.8 * sizes["all"][
      "latent_bytes"]
  assert compress.main(["decompress", str(tmp_path / "background.tfgc"),
                        str(tmp_path / "b.png"), f"--model={sc_export}"]) == 0
  assert np.asarray(Image.open(tmp_path / "b.png")).shape == (256, 256, 3)
  capsys.readouterr()
  status, _, stderr = cli_here(
      capsys, "compress", str(tmp_path / "astronaut.png"),
      str(tmp_path / "x.tfgc"), f"--model={sc_export}", "--labeller=person",
      f"--labels={tmp_path / 'b.png'}")
  assert_clean_failure(status, stderr)
  assert "not both" in stderr


@pytest.fixture(scope="module")
def person_export(tmp_path_factory):
  """An untrained tiny SC model of the person labeller: its path."""
  tf.keras.utils.set_random_seed(3)
  path = str(tmp_path_factory.mktemp("person_export"))
  export.export(GenerativeCompressionModel(
      SC_TINY.replace(num_classes=2, labeller="person")), path)
  return path


def test_a_model_of_the_person_labeller_runs_it_and_refuses_others(
    person_export, photo, tmp_path, capsys):
  """The config's labeller: compress.py labels each photo with it and
  takes its class names, `info` names it, another labeller is refused, a
  user's own person mask is taken."""
  from PIL import Image
  export_dir = person_export
  Image.fromarray(photo[::2, ::2]).save(tmp_path / "astronaut.png")
  headers = {}
  for name, flags in (("all", []), ("background", ["--synthesize=background"])):
    out = tmp_path / f"{name}.tfgc"
    assert compress.main(["compress", str(tmp_path / "astronaut.png"),
                          str(out), f"--model={export_dir}", *flags]) == 0
    capsys.readouterr()
    assert compress.main(["info", str(out), f"--model={export_dir}"]) == 0
    headers[name] = json.loads(capsys.readouterr().out)
  assert headers["all"]["labeller"] == "person"
  assert headers["all"]["classes"] == ["background", "person"]
  assert headers["background"]["latent_bytes"] < 0.8 * headers["all"][
      "latent_bytes"]
  for name, header in headers.items():  # The label map is in the file.
    assert header["label_map_bytes"] > 0
    assert header["file_bytes"] == (tmp_path / f"{name}.tfgc").stat().st_size
    assert header["file_bytes"] > sum(header[f"{part}_bytes"] for part in (
        "latent", "side", "label_map", "latent_mask"))
  model = codec.load(export_dir)
  image = np.asarray(Image.open(tmp_path / "astronaut.png"))
  # Her pixels decode about as well with the background synthesised.
  person = model.label_map(image) == 1
  psnr = {name: metrics.psnr(image, model.decompress(
      (tmp_path / f"{name}.tfgc").read_bytes()), person) for name in headers}
  assert psnr["background"] > psnr["all"] - 1.0, psnr
  with pytest.raises(TfgcError, match="drop --labeller=standin"):
    model.compress(image, labeller="standin")
  own = model.compress(image, labels=np.ones(image.shape[:2], np.uint8),
                       synthesize=["person"], allow_empty=True)
  assert codec.info(own)["latent_bytes"] == 0
  status, _, stderr = cli_here(capsys, "info", str(tmp_path / "all.tfgc"),
                               f"--model={tmp_path / 'missing'}")
  assert_clean_failure(status, stderr)


def test_the_readme_sc_picture_has_four_panels_and_its_figures(
    person_export, tiny_export, tmp_path):
  from PIL import Image
  from conftest import REPO
  result = subprocess.run(
      [sys.executable, os.path.join(REPO, "scripts", "sc_side_by_side.py"),
       f"--model={person_export}", f"--gc={tiny_export}",
       "--photo=astronaut", f"--out={tmp_path / 'sc.webp'}",
       f"--figures={tmp_path / 'sc.json'}"],
      capture_output=True, text=True,
      env=dict(os.environ, PYTHONPATH=REPO))
  assert result.returncode == 0, result.stderr[-2000:]
  assert Image.open(tmp_path / "sc.webp").size[0] == 4 * 512
  figures = json.loads((tmp_path / "sc.json").read_text())
  assert 0.3 < figures["synthesised_fraction"] < 0.7  # She is half of it.
  sc = figures[person_export]  # Keyed by --model and --gc.
  for entry in (sc, figures[tiny_export]):
    assert entry["bpp"] == pytest.approx(8 * entry["bytes"] / 512 ** 2)
    assert 0 < entry["lpips_alexnet"] < 1.5
  assert 0 < figures["label_map_bytes"] < sc["bytes"]


def test_a_model_of_the_stand_in_labeller_refuses_a_users_label_map(
    scene, tmp_path):
  """Its classes are per-image colour/position regions: a user's map
  would be misread, so only the regions it computes itself are taken."""
  tf.keras.utils.set_random_seed(3)
  path = str(tmp_path / "standin")
  export.export(GenerativeCompressionModel(SC_TINY.replace(
      labeller="standin")), path)
  model = codec.load(path)
  image, labels = scene
  with pytest.raises(TfgcError, match="drop --labels"):
    model.compress(image, labels)
  own = bitstream.parse(model.compress(image, synthesize=["region 0"]))
  assert own.sections[0] != bitstream.parse(model.compress(image)).sections[0]


def test_a_model_of_the_objects_labeller_synthesises_a_supercategory(
    tmp_path, capsys):
  """The dev set's cup is kitchenware: with the background synthesised
  (or the cup kept: --keep) only its latents are sent, `info` names the
  labeller's 13 classes, and the person labeller (another class table)
  is refused."""
  import skimage.data
  tf.keras.utils.set_random_seed(3)
  path = str(tmp_path / "objects")
  export.export(GenerativeCompressionModel(
      SC_TINY.replace(num_classes=13, labeller="objects")), path)
  model = codec.load(path)
  image = skimage.data.coffee()[::2, ::2]
  labels = model.label_map(image)
  assert set(np.unique(labels)) == {0, model.class_names.index("kitchen")}
  everything = model.compress(image)
  background = model.compress(image, synthesize=["background"])
  cup = model.compress(image, synthesize=["kitchen"])
  assert codec.info(background)["latent_bytes"] < 0.8 * codec.info(
      everything)["latent_bytes"]
  assert codec.info(cup)["latent_bytes"] < codec.info(everything)[
      "latent_bytes"]
  np.testing.assert_array_equal(model.carried_label_map(background), labels)
  with pytest.raises(TfgcError, match="one of --synthesize, --keep"):
    model.compress(image, synthesize=["background"], keep=["kitchen"])
  # No person here: keeping one would paint the whole photo.
  with pytest.raises(TfgcError, match="^--keep=person keeps nothing: the "
                     r"objects labeller found background \d+%, kitchen "
                     r"\d+% \(no person\); pass --allow_empty"):
    model.compress(image, keep=["person"])
  # Keeping the cup is synthesising the rest.
  from PIL import Image
  Image.fromarray(image).save(tmp_path / "coffee.png")
  assert compress.main(["compress", str(tmp_path / "coffee.png"),
                        str(tmp_path / "cup.tfgc"), f"--model={path}",
                        "--keep=kitchen"]) == 0
  assert (tmp_path / "cup.tfgc").read_bytes() == background
  capsys.readouterr()
  assert compress.main(["info", str(tmp_path / "cup.tfgc"),
                        f"--model={path}"]) == 0
  header = json.loads(capsys.readouterr().out)
  assert header["labeller"] == "objects" and len(header["classes"]) == 13
  with pytest.raises(TfgcError, match="drop --labeller=person"):
    model.compress(image, labeller="person")
