import numpy as np
import pytest
import tensorflow as tf

from tfgc import export
from tfgc.config import ConfigError, Recipe, preset
from tfgc.model import GenerativeCompressionModel
from tfgc.weight_average import WeightAverage

DECAY = 0.9


def test_first_update_copies_then_decay_ramps_up_to_its_value():
  weight = tf.Variable([0.0, 0.0])
  average = WeightAverage([weight], DECAY)
  expected = None
  for n, value in enumerate([[1.0, 2.0], [3.0, -1.0], [5.0, 0.5],
                             [0.0, 7.0]] + [[1.0, 1.0]] * 40):
    weight.assign(value)
    average.update()
    decay = min(DECAY, n / (n + 10.0))
    expected = (np.array(value) if expected is None
                else decay * expected + (1 - decay) * np.array(value))
    np.testing.assert_allclose(average.averages[0].numpy(), expected,
                               rtol=1e-6)
  assert int(average.updates) == 44


def test_decay_outside_the_open_unit_interval_is_refused():
  with pytest.raises(ValueError, match="decay"):
    WeightAverage([tf.Variable(1.0)], 1.0)
  with pytest.raises(ConfigError, match="weight_average"):
    Recipe(weight_average=-0.5)


def test_without_an_average_the_model_tracks_none_and_validates_itself():
  model = GenerativeCompressionModel(preset("tiny"))
  assert model.weight_average is None
  assert model.inference_model() is model
  names = [v.name for v in model.weights]
  assert not any("weight_average" in name for name in names)


def test_validation_and_export_use_the_averaged_weights(small_photo,
                                                        tmp_path):
  tf.keras.utils.set_random_seed(0)
  model = GenerativeCompressionModel(
      preset("tiny"), Recipe(weight_average=DECAY, learning_rate=1e-3))
  model.compile()
  dataset = tf.data.Dataset.from_tensors(small_photo[None]).repeat()
  model.fit(dataset, epochs=1, steps_per_epoch=4, verbose=0)
  assert int(model.weight_average.updates) == 4

  copy = model.inference_model()
  averaged = [v.numpy() for v in copy.generator_variables]
  for value, average in zip(averaged, model.weight_average.averages):
    np.testing.assert_array_equal(value, average.numpy())
  assert any(not np.array_equal(value, v.numpy())
             for value, v in zip(averaged, model.generator_variables))
  np.testing.assert_array_equal(
      copy.discriminator.get_weights()[0],
      model.discriminator.get_weights()[0])

  export.export(model, str(tmp_path))
  reader = tf.train.load_checkpoint(str(tmp_path / "variables" / "variables"))
  exported = [reader.get_tensor(name)
              for name in reader.get_variable_to_shape_map()]
  def is_exported(variable):
    return any(np.array_equal(value, variable.numpy()) for value in exported)
  assert is_exported(copy.encoder.trainable_variables[0])
  assert not is_exported(model.encoder.trainable_variables[0])


def test_the_average_is_checkpointed_and_resumes(tmp_path):
  recipe = Recipe(weight_average=DECAY)
  model = GenerativeCompressionModel(preset("tiny"), recipe)
  model.compile()
  weight = model.generator_variables[0]
  for _ in range(3):
    weight.assign_add(tf.ones_like(weight))
    model.weight_average.update()
  path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))

  resumed = GenerativeCompressionModel(preset("tiny"), recipe)
  resumed.compile()
  tf.train.Checkpoint(model=resumed).restore(path).assert_existing_objects_matched()
  assert int(resumed.weight_average.updates) == 3
  np.testing.assert_array_equal(resumed.weight_average.averages[0].numpy(),
                                model.weight_average.averages[0].numpy())
