"""The exported SavedModel works without tfgc's code, in other processes."""

import contextlib
import io
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from conftest import run_python
from helpers import with_sections
from tfgc import bitstream, codec, export
from tfgc.config import preset
from tfgc.errors import TfgcError
from tfgc.model import GenerativeCompressionModel
from tfgc.networks import to_float, to_uint8
from tfgc.zoo import ModelError

IMAGE_37x53 = "np.random.default_rng(7).integers(0, 256, (37, 53, 3), np.uint8)"

ROUND_TRIP = f"""
import sys
import numpy as np
import tensorflow as tf
import tensorflow_compression
model = tf.saved_model.load(sys.argv[1])
image = {IMAGE_37x53}
strings = model.signatures["compress"](image=tf.constant(image))
decoded = model.signatures["decompress"](**strings)["image"].numpy()
assert decoded.shape == (37, 53, 3) and decoded.dtype == np.uint8
loaded = [m for m in sys.modules if m.startswith("tfgc")]
assert not loaded, loaded
print("ok", len(strings["latent_string"].numpy()))
"""

DECODE = """
import sys
import numpy as np
import tensorflow as tf
import tensorflow_compression
model = tf.saved_model.load(sys.argv[1])
inputs = dict(np.load(sys.argv[2]))
image = model.signatures["decompress"](
    latent_string=tf.constant(inputs["latent_string"].tobytes()),
    side_string=tf.constant(inputs["side_string"].tobytes()),
    image_shape=tf.constant(inputs["image_shape"]),
    seed=tf.constant(int(inputs["seed"])))["image"]
np.save(sys.argv[3], image.numpy())
"""

SERVING = f"""
import sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
image = {IMAGE_37x53}
analysis = model.signatures["analyze"](image=tf.constant(image))
decoded = model.signatures["synthesize"](**analysis)["image"]
np.savez(sys.argv[2], symbols=analysis["symbols"].numpy(),
         image=decoded.numpy())
assert "tensorflow_compression" not in sys.modules
"""


def load(path):
  import tensorflow_compression  # noqa: F401  (registers the range coder ops)
  return tf.saved_model.load(path)


def image_37x53():
  return np.random.default_rng(7).integers(0, 256, (37, 53, 3), np.uint8)


def test_round_trip_in_a_process_that_imports_only_tf_and_tfc(tiny_export):
  result = run_python(ROUND_TRIP, tiny_export)
  assert result.stdout.startswith("ok")


def test_two_processes_decode_the_same_strings_to_identical_pixels(
    tiny_export, tmp_path):
  strings = load(tiny_export).signatures["compress"](
      image=tf.constant(image_37x53()))
  inputs = tmp_path / "strings.npz"
  np.savez(inputs, **{
      "latent_string": np.frombuffer(strings["latent_string"].numpy(),
                                     np.uint8),
      "side_string": np.frombuffer(strings["side_string"].numpy(), np.uint8),
      "image_shape": strings["image_shape"].numpy(),
      "seed": strings["seed"].numpy()})
  outputs = [tmp_path / f"decoded{i}.npy" for i in range(2)]
  for output in outputs:
    run_python(DECODE, tiny_export, str(inputs), str(output))
  first, second = (np.load(o) for o in outputs)
  assert first.shape == (37, 53, 3)
  np.testing.assert_array_equal(first, second)


def test_serving_model_runs_without_tfc_and_matches_the_full_model(
    tiny_export, tmp_path):
  serving = os.path.join(tiny_export, export.SERVING_SUBDIR)
  output = tmp_path / "serving.npz"
  run_python(SERVING, serving, str(output))
  served = np.load(output)
  full = load(tiny_export)
  analysis = full.signatures["analyze"](image=tf.constant(image_37x53()))
  np.testing.assert_array_equal(served["symbols"],
                                analysis["symbols"].numpy())
  strings = full.signatures["compress"](image=tf.constant(image_37x53()))
  decoded = full.signatures["decompress"](**strings)["image"].numpy()
  np.testing.assert_array_equal(served["image"], decoded)


def test_serving_copy_written_from_the_main_model_alone_matches_the_export(
    tiny_export, tmp_path):
  main_only = tmp_path / "main_only"
  shutil.copytree(tiny_export, main_only,
                  ignore=shutil.ignore_patterns("serving"))
  copy = tmp_path / "serving_copy"
  assert export.main([str(main_only), str(copy)]) == 0
  outputs = [tmp_path / f"{name}.npz" for name in ("copy", "original")]
  run_python(SERVING, str(copy), str(outputs[0]))
  run_python(SERVING, os.path.join(tiny_export, export.SERVING_SUBDIR),
             str(outputs[1]))
  copied, original = (np.load(o) for o in outputs)
  np.testing.assert_array_equal(copied["image"], original["image"])
  np.testing.assert_array_equal(copied["symbols"], original["symbols"])
  served = tf.saved_model.load(str(copy))
  assert served.model_id.numpy() == load(tiny_export).model_id.numpy()


def test_serving_copy_of_an_unknown_model_is_a_one_line_error(tmp_path,
                                                              capsys):
  assert export.main(["no-such-model", str(tmp_path / "out")]) == 1
  assert "no model 'no-such-model'" in capsys.readouterr().err
  assert not (tmp_path / "out").exists()


def test_compress_outputs_are_decompress_inputs(tiny_export):
  model = load(tiny_export)
  outputs = set(model.signatures["compress"].structured_outputs)
  inputs = set(model.signatures["decompress"].structured_input_signature[1])
  assert outputs == inputs
  outputs = set(model.signatures["analyze"].structured_outputs)
  inputs = set(model.signatures["synthesize"].structured_input_signature[1])
  assert outputs == inputs


def test_symbols_are_the_quantizer_centres(tiny_export):
  model = load(tiny_export)
  symbols = model.signatures["analyze"](
      image=tf.constant(image_37x53()))["symbols"].numpy()
  assert symbols.shape == (3, 4, 4)
  assert set(np.unique(symbols)) <= {-2, -1, 0, 1, 2}


def test_seed_selects_the_noise_deterministically(tiny_export):
  model = load(tiny_export)
  strings = model.signatures["compress"](image=tf.constant(image_37x53()))
  decode = lambda seed: model.signatures["decompress"](  # noqa: E731
      **dict(strings, seed=tf.constant(seed)))["image"].numpy()
  np.testing.assert_array_equal(decode(3), decode(3))
  assert not np.array_equal(decode(3), decode(4))


def test_model_json_records_id_config_and_parameters(tiny_export):
  with open(os.path.join(tiny_export, export.MODEL_JSON)) as f:
    description = json.load(f)
  assert description["config"]["name"] == "tiny"
  assert description["parameters"]["generator"] > 0
  assert load(tiny_export).model_id.numpy().decode() == \
      description["model_id"]


@pytest.fixture(scope="module")
def hyperprior_model():
  """An untrained `tiny` model with the hyperprior entropy model."""
  return GenerativeCompressionModel(
      preset("tiny").replace(entropy_model="hyperprior"))


@pytest.fixture(scope="module")
def hyperprior_export(hyperprior_model, tmp_path_factory):
  path = str(tmp_path_factory.mktemp("hyperprior_export"))
  export.export(hyperprior_model, path)
  return path


def test_a_hyperprior_export_decodes_what_the_model_reconstructs(
    hyperprior_model, hyperprior_export):
  """The side string carries the hyperprior: decompress(compress(x)) gives
  the pixels of the model's own analysis and synthesis (the same noise
  seed), and compressing again gives the same strings."""
  model = load(hyperprior_export)
  image = tf.constant(image_37x53())
  strings = model.signatures["compress"](image=image)
  assert len(strings["side_string"].numpy()) > 0
  again = model.signatures["compress"](image=image)
  for key in ("latent_string", "side_string"):
    assert again[key].numpy() == strings[key].numpy()
  decoded = model.signatures["decompress"](**strings)["image"].numpy()

  w_hat, _ = hyperprior_model.analysis(to_float(image[None]))
  x_hat = hyperprior_model.synthesis(w_hat, (37, 53), seed=strings["seed"])
  expected = to_uint8(x_hat[0]).numpy()
  assert np.abs(decoded.astype(int) - expected).max() <= 1


def test_a_hyperprior_export_refuses_a_damaged_latent_string(
    hyperprior_export):
  model = codec.load(hyperprior_export)
  data = model.compress(image_37x53())
  latent = bitstream.parse(data).sections[0]
  assert model.decompress(data).shape == (37, 53, 3)
  for damaged in (b"", latent + b"\x00", b"\xff" * len(latent)):
    with pytest.raises(TfgcError, match="corrupt bitstream"):
      model.decompress(with_sections(data, s0=damaged))


def test_any_size_round_trips_to_its_own_size(tiny_export):
  model = load(tiny_export)
  for height, width in ((1, 1), (17, 30), (16, 16)):
    image = np.full((height, width, 3), 128, np.uint8)
    strings = model.signatures["compress"](image=tf.constant(image))
    decoded = model.signatures["decompress"](**strings)["image"]
    assert decoded.shape == (height, width, 3)
    assert decoded.dtype == tf.uint8


MODEL_ID = """
import tensorflow as tf
from tfgc import export
from tfgc.config import preset
from tfgc.model import GenerativeCompressionModel
tf.keras.utils.set_random_seed(5)
model = GenerativeCompressionModel(preset("tiny"))
codec = export.CodecModule(model, "")
print(export.model_id(model.config,
                      [v for v in codec.variables if v.dtype != tf.string]))
"""


def test_model_id_depends_on_weights_not_on_layer_names():
  """A fresh process and this one agree, although here the models built
  before have shifted Keras' layer names."""
  fresh = run_python(MODEL_ID).stdout.split()[-1]
  assert len(fresh) == 16
  GenerativeCompressionModel(preset("tiny"))  # Names shift at least once.
  output = io.StringIO()
  with contextlib.redirect_stdout(output):
    exec(MODEL_ID, {})
  assert output.getvalue().split()[-1] == fresh


def test_export_analyses_and_synthesises_as_the_model_does(tmp_path):
  """The export calls the model's `analysis` and `synthesis`: same symbols,
  same pixels (SC with noise, so F, the keep mask and the seed count)."""
  tf.keras.utils.set_random_seed(3)
  model = GenerativeCompressionModel(preset("tiny").replace(
      mode="sc", num_classes=3))
  export.export(model, str(tmp_path))
  exported = load(str(tmp_path))
  image = image_37x53()
  labels = (np.arange(53)[None, :] * 3 // 53).repeat(37, 0).astype(np.uint8)
  synthesis_mask = labels == 0
  analysis = exported.signatures["analyze"](
      image=tf.constant(image), labels=tf.constant(labels),
      synthesis_mask=tf.constant(synthesis_mask.astype(np.uint8)))
  decoded = exported.signatures["synthesize"](
      **dict(analysis, seed=tf.constant(11)))["image"].numpy()

  w_hat, keep = model.analysis(tf.constant(image[None], tf.float32) / 255.0,
                               synthesis_mask[None])
  np.testing.assert_array_equal(analysis["symbols"].numpy(),
                                w_hat[0].numpy().astype(np.int32))
  np.testing.assert_array_equal(analysis["latent_mask"].numpy(),
                                keep[0, :, :, 0].numpy().astype(np.uint8))
  x_hat = model.synthesis(w_hat, (37, 53), labels[None], seed=11).numpy()
  expected = np.clip(np.round(x_hat[0] * 255.0), 0, 255).astype(np.uint8)
  np.testing.assert_array_equal(decoded, expected)


@pytest.mark.parametrize("name", ["tiny_export", "hyperprior_export"])
def test_entropy_signatures_code_the_symbols_compress_codes(name, request):
  """compress = analyze + entropy_encode, and entropy_decode inverts it."""
  model = load(request.getfixturevalue(name))
  image = tf.constant(image_37x53())
  symbols = model.signatures["analyze"](image=image)["symbols"]
  strings = model.signatures["entropy_encode"](symbols=symbols)
  compressed = model.signatures["compress"](image=image)
  for key in ("latent_string", "side_string"):
    assert strings[key].numpy() == compressed[key].numpy()
  decoded = model.signatures["entropy_decode"](
      **strings, latent_shape=tf.constant([3, 4]))["symbols"]
  np.testing.assert_array_equal(decoded.numpy(), symbols.numpy())


class CodecModuleWithoutEntropySignatures(export.CodecModule):
  """The layout of exports written before the entropy signatures."""

  SIGNATURES = export.TransformsModule.SIGNATURES + ("compress",
                                                     "decompress")


def test_an_export_without_entropy_signatures_is_refused_until_upgraded(
    tmp_path):
  tf.keras.utils.set_random_seed(4)
  model = GenerativeCompressionModel(preset("tiny"))
  current, old, upgraded = (str(tmp_path / n)
                            for n in ("current", "old", "upgraded"))
  identifier = export.export(model, current)
  module = CodecModuleWithoutEntropySignatures(model.inference_model(),
                                               identifier)
  export.save(module, old, module.signatures())
  shutil.copy(os.path.join(current, export.MODEL_JSON), old)
  shutil.copytree(os.path.join(current, "serving"),
                  os.path.join(old, "serving"))
  with pytest.raises(ModelError, match=f"--upgrade {old}"):
    codec.load(old)

  os.makedirs(upgraded)
  open(os.path.join(upgraded, "keep.txt"), "w").close()
  assert export.main(["--upgrade", old, upgraded]) == 1
  os.remove(os.path.join(upgraded, "keep.txt"))
  assert export.main(["--upgrade", old, upgraded]) == 0
  fresh, upgraded_codec = codec.load(current), codec.load(upgraded)
  assert upgraded_codec.model_id == identifier
  data = fresh.compress(image_37x53())
  assert upgraded_codec.compress(image_37x53()) == data
  np.testing.assert_array_equal(upgraded_codec.decompress(data),
                                fresh.decompress(data))
  assert sorted(os.listdir(os.path.join(upgraded, "serving", "1"))) == sorted(
      os.listdir(os.path.join(current, "serving", "1")))
  # Its compress and decompress are rebuilt on the new coder (the strict
  # decoder): the same strings as a new export's, and a padded string is
  # refused rather than decoded.
  new, rebuilt = load(current), load(upgraded)
  image = tf.constant(image_37x53())
  strings = new.signatures["compress"](image=image)
  assert (rebuilt.signatures["compress"](image=image)["latent_string"].numpy()
          == strings["latent_string"].numpy())
  inputs = {k: strings[k] for k in ("latent_string", "side_string",
                                    "image_shape", "seed")}
  np.testing.assert_array_equal(
      rebuilt.signatures["decompress"](**inputs)["image"].numpy(),
      new.signatures["decompress"](**inputs)["image"].numpy())
  inputs["latent_string"] = tf.constant(
      strings["latent_string"].numpy() + b"\x00\x01")
  with pytest.raises(tf.errors.InvalidArgumentError):
    rebuilt.signatures["decompress"](**inputs)
  assert export.main(["--upgrade", upgraded, str(tmp_path / "again")]) == 1

  with open(os.path.join(old, export.MODEL_JSON)) as f:
    description = json.load(f)
  description["config"]["entropy_model"] = "hyperprior"
  with open(os.path.join(old, export.MODEL_JSON), "w") as f:
    json.dump(description, f)
  with pytest.raises(TfgcError, match="export it again from its run"):
    export.upgrade(old, str(tmp_path / "refused"))
  with pytest.raises(ModelError, match="export it again from its run"):
    codec.load(old)
