"""The realism dial (Config.realism_dial): G conditioned on r in [0, 1],
identity at the start, the loss weighted by r, and one file decoded at
any r by the codec, its tiles, the CLI and the SavedModel."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from helpers import assert_clean_failure, cli_here
from tfgc import codec, export, tiling
from tfgc.config import Recipe, preset
from tfgc.model import GenerativeCompressionModel
from tfgc.networks import with_noise

# Without noise: tileable.
CONFIG = preset("tiny").replace(realism_dial=True, noise_channels=0)


def dial_model(perturbed):
  """A tiny model with the dial; `perturbed`: its modulation's weights
  random, so that r changes the decode (they start at zero)."""
  tf.keras.utils.set_random_seed(4)
  model = GenerativeCompressionModel(CONFIG, Recipe(gan_weight=0.15))
  if perturbed:
    for variable in model.realism_modulation.trainable_variables:
      variable.assign(tf.random.normal(variable.shape, stddev=0.5))
  return model


@pytest.fixture(scope="module")
def dial_export(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("dial_export"))
  export.export(dial_model(perturbed=True), path, default_realism=0.25)
  return path


@pytest.fixture(scope="module")
def photo():
  return np.random.default_rng(0).integers(0, 256, (70, 90, 3), np.uint8)


def decode_at(model, latents, realism):
  return model.synthesis(latents, [32, 32], seed=tf.constant(3),
                         realism=tf.constant([realism])).numpy()


def test_the_dial_starts_as_g_alone_at_every_r():
  """A warm start from a model without the dial decodes what it did."""
  model = dial_model(perturbed=False)
  latents, _ = model.analysis(tf.random.uniform((1, 32, 32, 3)))
  alone = model.generator(with_noise(latents, CONFIG.noise_channels,
                                     tf.constant(3))).numpy()
  for realism in (0.0, 0.4, 1.0):
    np.testing.assert_array_equal(decode_at(model, latents, realism), alone)


def test_the_loss_weighs_the_realism_terms_by_r():
  model = dial_model(perturbed=True)
  c = model.recipe
  ones = tf.ones([2])
  terms = dict(mse=0.1 * ones, perceptual=0.2 * ones, gan=0.3 * ones,
               feature_matching=0.4 * ones, realism=tf.constant([0.0, 0.5]))
  loss = model._generator_loss(terms).numpy()
  realism_terms = (0.2 * c.lambda_perceptual + 0.3 * c.gan_weight
                   + 0.4 * c.lambda_feature_matching)
  np.testing.assert_allclose(loss, [0.1 * c.lambda_mse,
                                    0.1 * c.lambda_mse + 0.5 * realism_terms],
                             rtol=1e-6)
  # Training draws r per example; evaluation decodes at r = 1.
  images = tf.random.uniform((4, 16, 16, 3))
  drawn = model(images, training=True).realism.numpy()
  assert len(set(drawn.tolist())) == 4 and drawn.min() >= 0
  assert model(images).realism.numpy().tolist() == [1.0] * 4
  model.compile()
  assert np.isfinite(model.train_step(images)["g_loss"].numpy())


def test_one_file_decodes_at_every_r(dial_export, photo):
  model = codec.load(dial_export)
  data = model.compress(photo)
  decoded = {r: model.decompress(data, realism=r) for r in (0.0, 0.5, 1.0)}
  assert all(d.shape == photo.shape for d in decoded.values())
  assert not np.array_equal(decoded[0.0], decoded[1.0])
  assert not np.array_equal(decoded[0.5], decoded[1.0])
  # The default is model.json's, and the bytes do not depend on r.
  with open(os.path.join(dial_export, "model.json")) as f:
    assert json.load(f)["default_realism"] == 0.25
  np.testing.assert_array_equal(model.decompress(data),
                                model.decompress(data, realism=0.25))
  assert model.compress(photo) == data
  # In tiles (8 core cells a side and a halo of 6: 12 tiles of a 320x480
  # photo), the same pixels: each tile at the same r.
  large = np.random.default_rng(1).integers(0, 256, (320, 480, 3), np.uint8)
  data = model.compress(large)
  tiles = []
  cells = 8 + 2 * tiling.synthesis_halo(CONFIG)
  budget = ((cells * 16) ** 2 * tiling.activation_bytes_per_pixel(CONFIG)
            / 2 ** 20)
  tiled = codec.load(dial_export, memory_budget_mib=budget).decompress(
      data, realism=0.5, progress=lambda done, total: tiles.append(total))
  assert tiles[-1] == 12
  # Within rounding, as test_tiling.py's tiles.
  whole = model.decompress(data, realism=0.5)
  assert np.abs(tiled.astype(int) - whole).max() <= 1
  assert np.abs(whole.astype(int) - model.decompress(data, realism=0.0)).max(
      ) > 1
  with pytest.raises(codec.TfgcError, match=r"in \[0, 1\]"):
    model.decompress(data, realism=1.5)


def test_the_cli_decodes_at_the_realism_asked_for(dial_export, photo,
                                                  tiny_export, tmp_path,
                                                  capsys):
  from PIL import Image
  Image.fromarray(photo).save(tmp_path / "p.png")
  assert cli_here(capsys, "compress", str(tmp_path / "p.png"),
                  f"--model={dial_export}")[0] == 0
  assert cli_here(capsys, "decompress", str(tmp_path / "p.tfgc"),
                  f"--model={dial_export}", "--realism=0",
                  "-o", str(tmp_path / "r0.png"))[0] == 0
  faithful = np.asarray(Image.open(tmp_path / "r0.png"))
  expected = codec.load(dial_export).decompress(
      (tmp_path / "p.tfgc").read_bytes(), realism=0.0)
  np.testing.assert_array_equal(faithful, expected)
  status, stdout, _ = cli_here(capsys, "info", str(tmp_path / "p.tfgc"),
                               f"--model={dial_export}")
  assert status == 0 and json.loads(stdout)["default_realism"] == 0.25
  # Out of range, or a model without the dial: one line each.
  with pytest.raises(SystemExit):
    cli_here(capsys, "decompress", str(tmp_path / "p.tfgc"), "--realism=2")
  assert "must be a number in [0, 1]" in capsys.readouterr().err
  Image.fromarray(photo).save(tmp_path / "q.png")
  cli_here(capsys, "compress", str(tmp_path / "q.png"),
           f"--model={tiny_export}")
  status, _, stderr = cli_here(capsys, "decompress", str(tmp_path / "q.tfgc"),
                               f"--model={tiny_export}", "--realism=0.5")
  assert_clean_failure(status, stderr)
  assert "has no realism dial" in stderr


def test_the_serving_signatures_take_r(dial_export):
  loaded = tf.saved_model.load(os.path.join(dial_export, "serving", "1"))
  inputs = loaded.signatures["synthesize"].structured_input_signature[1]
  assert inputs["realism"].dtype == tf.float32
  symbols = tf.zeros((2, 3, CONFIG.latent_channels), tf.int32)
  images = [loaded.signatures["synthesize"](
      symbols=symbols, image_shape=tf.constant([32, 48]),
      seed=tf.constant(0), realism=tf.constant(r))["image"].numpy()
            for r in (0.0, 1.0)]
  assert images[0].shape == (32, 48, 3)
  assert not np.array_equal(*images)


def test_validation_also_measures_the_mse_end(tmp_path):
  from tfgc import callbacks
  model = dial_model(perturbed=True)
  history = tmp_path / "validation.jsonl"
  validation = callbacks.FullImageValidation(
      [np.full((32, 32, 3), 120, np.uint8)],
      tf.summary.create_file_writer(str(tmp_path)), every=1,
      history=str(history))
  validation.set_model(model)
  validation.validate(1)
  figures = json.loads(history.read_text())
  assert {"psnr", "psnr_r0"} <= set(figures)
  assert figures["psnr"] != figures["psnr_r0"]


def test_a_warm_start_without_the_dial_decodes_as_its_source(tiny_export):
  """The dial's projections start at zero: E and G copied from a model
  without the dial decode its symbols to its pixels at every r."""
  from tfgc import training
  config = preset("tiny").replace(realism_dial=True)  # tiny_export's + dial.
  model = GenerativeCompressionModel(config)
  training.warm_start(model, tiny_export)
  source = tf.saved_model.load(tiny_export).signatures["synthesize"]
  symbols = tf.random.stateless_uniform((2, 3, config.latent_channels),
                                        [1, 2], -2, 3, tf.int32)
  expected = source(symbols=symbols, image_shape=tf.constant([32, 48]),
                    seed=tf.constant(7))["image"].numpy()
  for realism in (0.0, 1.0):
    decoded = model.synthesis(tf.cast(symbols, tf.float32)[None], [32, 48],
                              seed=tf.constant(7),
                              realism=tf.constant([realism]))
    decoded = np.round(np.clip(decoded[0].numpy(), 0, 1) * 255)
    assert np.abs(decoded - expected).max() <= 1


def test_selective_models_take_the_dial_too(tmp_path):
  config = preset("tiny").replace(realism_dial=True, mode="sc", num_classes=3,
                                  noise_channels=0)
  tf.keras.utils.set_random_seed(5)
  model = GenerativeCompressionModel(config)
  for variable in model.realism_modulation.trainable_variables:
    variable.assign(tf.random.normal(variable.shape, stddev=0.5))
  export.export(model, str(tmp_path))
  loaded = codec.load(str(tmp_path))
  image = np.random.default_rng(2).integers(0, 256, (48, 64, 3), np.uint8)
  labels = np.zeros((48, 64), np.uint8)
  labels[:, 32:] = 1
  data = loaded.compress(image, labels=labels, synthesize=[1])
  faithful, generative = (loaded.decompress(data, realism=r) for r in (0, 1))
  assert faithful.shape == generative.shape == image.shape
  assert not np.array_equal(faithful, generative)


def test_a_warm_start_from_a_dial_model_keeps_its_dial(dial_export):
  """It decodes as its source at every r (the dial's weights copied)."""
  from tfgc import training
  model = GenerativeCompressionModel(CONFIG)
  training.warm_start(model, dial_export)
  source = tf.saved_model.load(dial_export).signatures["synthesize"]
  symbols = tf.random.stateless_uniform((2, 3, CONFIG.latent_channels),
                                        [3, 4], -2, 3, tf.int32)
  for realism in (0.0, 1.0):
    expected = source(symbols=symbols, image_shape=tf.constant([32, 48]),
                      seed=tf.constant(0), realism=tf.constant(realism))
    decoded = model.synthesis(tf.cast(symbols, tf.float32)[None], [32, 48],
                              realism=tf.constant([realism]))
    decoded = np.round(np.clip(decoded[0].numpy(), 0, 1) * 255)
    assert np.abs(decoded - expected["image"].numpy()).max() <= 1
  # A model without the dial would decode with G trained for it: refused.
  with pytest.raises(training.TrainingError, match="realism_dial=true"):
    training.warm_start(
        GenerativeCompressionModel(CONFIG.replace(realism_dial=False)),
        dial_export)


def test_the_dial_field_enters_the_model_id_only_when_on():
  """Models exported before the dial keep their ids when re-exported."""
  assert "realism_dial" not in json.loads(preset("tiny").identity_json())
  assert json.loads(CONFIG.identity_json())["realism_dial"] is True
