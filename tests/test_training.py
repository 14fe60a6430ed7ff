"""tfgc.training from Python: a run without absl or train.py; options it
cannot train with are refused before any work. Resuming, validation and
warm starts go through the same code from train.py (test_train.py)."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgc import training, zoo
from tfgc.config import Recipe, preset
from tfgc.model import GenerativeCompressionModel

TINY = preset("tiny")


def options(tmp_path, **changes):
  """A tiny run's options; no export unless `changes` give an export_dir
  (None: the default, CHECKPOINT_DIR/export)."""
  values = dict(data_dir=str(tmp_path / "photos"),
                checkpoint_dir=str(tmp_path / "ckpt"), batch_size=2,
                crop_size=32, max_short_side=0, log_every=1, export_dir="")
  return training.RunOptions(**dict(values, **changes))


@pytest.fixture
def one_photo(tmp_path, small_photo):
  """A training folder of one photo (the options' data_dir)."""
  (tmp_path / "photos").mkdir()
  Image.fromarray(small_photo).save(tmp_path / "photos" / "face.png")
  return tmp_path / "photos"


def test_a_run_from_python_exports_and_keeps_its_config(one_photo, tmp_path,
                                                        capsys):
  trained = training.train(TINY, options(tmp_path, steps=2, export_dir=None))
  assert trained.step == 2 and len(trained.model_id) == 16
  assert int(trained.model.generator_optimizer.iterations) == 2
  export_dir = tmp_path / "ckpt" / "export"  # The default.
  assert f"exported model {trained.model_id} to {export_dir}" in (
      capsys.readouterr().out)
  with open(export_dir / "training.json") as f:
    record = json.load(f)
  assert record["step"] == 2 and record["command"] == []
  assert record["options"]["data_dir"] == ".../photos"
  assert str(tmp_path) not in json.dumps(record)

  assert record["recipe"] == json.loads(Recipe().to_json())
  assert "learning_rate" not in record["config"]

  with pytest.raises(training.TrainingError, match="another model config"):
    training.train(TINY.replace(latent_channels=2), options(tmp_path,
                                                            steps=4))


def test_export_run_exports_a_checkpoint_as_training_would(
    one_photo, tmp_path, capsys):
  """The newest checkpoint of a run with a weight average, exported
  without training, is the model the run itself exported."""
  from tfgc import export_run
  trained = training.train(TINY, options(
      tmp_path, steps=3, export_dir=str(tmp_path / "export")),
      Recipe(weight_average=0.5))
  assert export_run.main([str(tmp_path / "ckpt"),
                          str(tmp_path / "again")]) == 0
  with open(tmp_path / "again" / "model.json") as f:
    assert json.load(f)["model_id"] == trained.model_id
  records = []
  for folder in ("export", "again"):
    with open(tmp_path / folder / "training.json") as f:
      records.append(json.load(f))
  assert records[0] == records[1] and records[0]["step"] == 3
  assert "exported step 3 " in capsys.readouterr().out
  assert export_run.main([str(one_photo), str(tmp_path / "none")]) == 1
  error = capsys.readouterr().err
  assert "holds no checkpoint of a run" in error and error.count("\n") == 1


def learning_rates(model):
  return [float(o.learning_rate) for o in (model.generator_optimizer,
                                           model.discriminator_optimizer)]


def test_a_run_resumes_with_another_recipe_but_not_another_layout(
    one_photo, tmp_path, capsys):
  """The recipe (a lower learning rate, say) may change between starts,
  and the new one trains, not the checkpoint's; the model config and
  keeping a weight average or not may not. A run saved before the split
  (its recipe inside config.json) resumes too."""
  averaged = Recipe(weight_average=0.9)
  training.train(TINY, options(tmp_path, steps=1), averaged)
  trained = training.train(TINY, options(tmp_path, steps=2),
                           averaged.replace(learning_rate=1e-5))
  assert trained.step == 2 and trained.model_id is None  # export_dir="".
  assert learning_rates(trained.model) == pytest.approx([1e-5, 1e-5])
  assert "step 1: learning rate 1e-05 (was 0.0002)" in capsys.readouterr().out
  with open(tmp_path / "ckpt" / "recipe.json") as f:
    assert json.load(f)["learning_rate"] == 1e-5
  with pytest.raises(training.TrainingError, match="with a weight average"):
    training.train(TINY, options(tmp_path, steps=3))

  # The layout of config.json before the split: one file, both halves.
  old = dict(json.loads(TINY.to_json()), **json.loads(averaged.to_json()))
  (tmp_path / "ckpt" / "recipe.json").unlink()
  (tmp_path / "ckpt" / "config.json").write_text(json.dumps(old))
  with pytest.raises(training.TrainingError, match="with a weight average"):
    training.train(TINY, options(tmp_path, steps=3))
  # Tenfold lower from the drop step on: steps 2 and 3 run, 3 is the drop.
  trained = training.train(TINY, options(tmp_path, steps=4),
                           averaged.replace(learning_rate_drop_step=3))
  assert trained.step == 4
  assert learning_rates(trained.model) == pytest.approx([2e-5, 2e-5])
  assert "step 3: learning rate 2e-05 (was 0.0002)" in capsys.readouterr().out


@pytest.mark.parametrize("config, changes, message", [
    (TINY, dict(crop_size=40), "multiple of 16"),
    (TINY, dict(steps=0), "steps must be >= 1"),
    (TINY, dict(precision="float16"), "precision must be one of"),
    (TINY.replace(mode="sc", num_classes=3), {}, "takes label maps"),
    (TINY, dict(labels_dir="."), "--labels_dir needs --num_classes"),
    (TINY.replace(mode="sc", num_classes=3, labeller="standin"),
     dict(synthesis_box_fraction=0.8), "sum to <= 1"),
    (TINY.replace(mode="sc", num_classes=3, labeller="standin"),
     dict(labels_dir="."), "drop --labels_dir"),
    (TINY.replace(mode="sc", num_classes=3, labeller="standin"),
     dict(synthesis_background_fraction=0.1), "needs --labeller=person or"),
    (TINY.replace(mode="sc", num_classes=2, labeller="person"),
     dict(labels_dir="."), "holds no maps of the person labeller"),
    (TINY, dict(init_from="gc-small-c9"), "name .*gc-small-c8"),
])
def test_options_that_cannot_train_are_refused_before_any_work(
    tmp_path, config, changes, message):
  (tmp_path / "photos").mkdir()
  with pytest.raises(training.TrainingError, match=message):
    training.train(config, options(tmp_path, **changes))
  assert not (tmp_path / "ckpt").exists()


def test_init_from_takes_a_path_or_a_bundled_model_name(one_photo, tmp_path,
                                                        monkeypatch):
  """A path of the name wins; a bundled model (the `small` preset) passes
  the start-up check of a `small` run."""
  assert training.init_source("gc-small-c8") == zoo.path("gc-small-c8")
  options(tmp_path, init_from="gc-small-c8").check(preset("small"))
  monkeypatch.chdir(tmp_path)
  (tmp_path / "gc-small-c8").mkdir()
  assert training.init_source("gc-small-c8") == "gc-small-c8"


@pytest.mark.parametrize("source_kind", ["checkpoint", "export"])
def test_an_sc_model_warm_started_from_gc_is_that_gc_model(tmp_path,
                                                           source_kind):
  """E, G (with noise: F's inputs sit between ŵ and the noise), the
  entropy model and, from a checkpoint, D with D+'s labels."""
  import numpy as np
  import tensorflow as tf
  from tfgc import export
  from tfgc.model import GenerativeCompressionModel
  tf.keras.utils.set_random_seed(4)
  gc = GenerativeCompressionModel(TINY)
  source = str(tmp_path / "source")
  if source_kind == "export":
    export.export(gc, source)
  else:
    tf.train.Checkpoint(model=gc).save(f"{source}/ckpt")
    (tmp_path / "source" / "config.json").write_text(TINY.to_json())
  sc = GenerativeCompressionModel(TINY.replace(
      mode="sc", num_classes=3, discriminator_labels=True))
  training.warm_start(sc, source)

  rng = np.random.default_rng(0)
  image = tf.constant(rng.random((1, 32, 48, 3)), tf.float32)
  labels = tf.constant(rng.integers(0, 3, (1, 32, 48)), tf.uint8)
  w_hat, _ = gc.analysis(image)
  sc_w_hat, _ = sc.analysis(image, tf.zeros((1, 32, 48), tf.bool))
  np.testing.assert_array_equal(sc_w_hat.numpy(), w_hat.numpy())
  seed = tf.constant(7)
  np.testing.assert_allclose(
      sc.synthesis(w_hat, [32, 48], labels, seed=seed).numpy(),
      gc.synthesis(w_hat, [32, 48], seed=seed).numpy(), atol=1e-6)
  if source_kind == "checkpoint":
    for sc_out, gc_out in zip(sc.discriminate(image, labels),
                              gc.discriminate(image, None)):
      np.testing.assert_allclose(sc_out[-1].numpy(), gc_out[-1].numpy(),
                                 atol=1e-5)
    np.testing.assert_allclose(sc.entropy_model(w_hat).numpy(),
                               gc.entropy_model(w_hat).numpy(), rtol=1e-6)
  # F untrained but not ignored later: its weights are not zero.
  assert any(np.abs(w).max() > 0 for w in sc.semantic_encoder.get_weights())


def test_a_hyperprior_model_warm_started_from_an_export_keeps_its_rates(
    tmp_path):
  """An export keeps a hyperprior's whole layer: the warm start restores
  E, G and the entropy model (its rates), not only E and G."""
  import numpy as np
  import tensorflow as tf
  from tfgc import export
  from tfgc.model import GenerativeCompressionModel
  config = TINY.replace(entropy_model="hyperprior")
  tf.keras.utils.set_random_seed(5)
  source = GenerativeCompressionModel(config)
  export.export(source, str(tmp_path / "export"))
  tf.keras.utils.set_random_seed(6)
  started = GenerativeCompressionModel(config)
  image = tf.constant(np.random.default_rng(0).random((1, 32, 48, 3)),
                      tf.float32)
  w_hat, _ = source.analysis(image)
  before = started.entropy_model(w_hat).numpy()
  training.warm_start(started, str(tmp_path / "export"))
  expected = source.entropy_model(w_hat).numpy()
  assert not np.allclose(before, expected)
  np.testing.assert_allclose(started.entropy_model(w_hat).numpy(), expected,
                             rtol=1e-6)
  np.testing.assert_array_equal(started.analysis(image)[0].numpy(),
                                w_hat.numpy())


def test_a_gc_model_that_does_not_fit_the_sc_config_is_refused(tmp_path):
  import tensorflow as tf
  from tfgc.model import GenerativeCompressionModel
  gc = GenerativeCompressionModel(TINY)
  tf.train.Checkpoint(model=gc).save(f"{tmp_path}/ckpt")
  (tmp_path / "config.json").write_text(TINY.to_json())
  sc = GenerativeCompressionModel(TINY.replace(
      mode="sc", num_classes=3, latent_channels=2))
  with pytest.raises(training.TrainingError, match="does not fit"):
    training.warm_start(sc, str(tmp_path))


def test_a_warm_start_from_a_run_takes_its_weight_average(tmp_path):
  """The weights validation measured and an export would hold, not the
  raw ones of the last step."""
  config = preset("tiny")
  source = GenerativeCompressionModel(config, Recipe(weight_average=0.5))
  source.weight_average.update()  # The average: the weights now.
  for variable in source.generator_variables:
    variable.assign_add(tf.ones_like(variable))  # Raw weights move on.
  run = tmp_path / "run"
  tf.train.CheckpointManager(tf.train.Checkpoint(model=source), str(run),
                             1).save(checkpoint_number=7)
  (run / "config.json").write_text(config.to_json())
  (run / "recipe.json").write_text(Recipe(weight_average=0.5).to_json())
  started = GenerativeCompressionModel(config)
  training.warm_start(started, str(run))
  averaged = source.inference_model()
  for ours, theirs in zip(started.generator.weights,
                          averaged.generator.weights, strict=True):
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
