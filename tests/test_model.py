import numpy as np
import tensorflow as tf

from tfgc.config import Recipe, preset
from tfgc.model import GenerativeCompressionModel

WARMUP = 150
STEPS = 300
# Measured: the untrained tiny model decodes this crop at 7.6 dB and 300
# steps bring it to 19.4 dB; 6 dB leaves room for run-to-run spread.
MIN_PSNR_GAIN_DB = 6.0


def psnr_of(model, image):
  return float(model.evaluate(image[None], verbose=0,
                              return_dict=True)["psnr"])


def weights_of(variables):
  return [v.numpy().copy() for v in variables]


def changed(before, variables):
  return any(not np.array_equal(b, v.numpy())
             for b, v in zip(before, variables))


def test_warmup_then_adversarial_run_raise_psnr_and_train_d_only_when_asked(
    small_photo):
  """The default recipe's two runs in miniature: a warm-up (no adversarial
  weight) leaves D alone, the adversarial run warm-started from it trains
  D."""
  tf.keras.utils.set_random_seed(0)
  config = preset("tiny")
  recipe = Recipe(learning_rate=1e-3)
  warmup = recipe.replace(gan_weight=0.0, lambda_feature_matching=0.0)
  assert recipe.adversarial and not warmup.adversarial
  model = GenerativeCompressionModel(config, warmup)
  model.compile()
  before = psnr_of(model, small_photo)
  generator_start = weights_of(model.generator_variables)
  discriminator_start = weights_of(model.discriminator_variables)
  dataset = tf.data.Dataset.from_tensors(small_photo[None]).repeat()

  warmup = model.fit(dataset, epochs=1, steps_per_epoch=WARMUP, verbose=0)
  assert warmup.history["gan"][-1] == 0.0
  assert warmup.history["d_loss"][-1] == 0.0
  assert changed(generator_start, model.generator_variables)
  assert not changed(discriminator_start, model.discriminator_variables)
  assert int(model.discriminator_optimizer.iterations) == 0

  warm = model
  model = GenerativeCompressionModel(config, recipe)
  model.compile()
  model.set_weights(warm.get_weights())
  adversarial = model.fit(dataset, epochs=1, steps_per_epoch=STEPS - WARMUP,
                          verbose=0)
  assert adversarial.history["gan"][-1] > 0.0
  assert adversarial.history["d_loss"][-1] > 0.0
  assert changed(discriminator_start, model.discriminator_variables)
  assert int(model.generator_optimizer.iterations) == STEPS - WARMUP
  assert int(model.discriminator_optimizer.iterations) == STEPS - WARMUP

  after = psnr_of(model, small_photo)
  print(f"PSNR before {before:.2f} dB, after {STEPS} steps {after:.2f} dB")
  assert after - before >= MIN_PSNR_GAIN_DB

  # D learned which side is real (LSGAN: real -> 1, fake -> 0), at every
  # scale: swapped targets in either loss would turn this around.
  x = tf.constant(small_photo[None], tf.float32) / 255.0
  x_hat = model(small_photo[None]).images
  for real, fake in zip(model.discriminate(x, None),
                        model.discriminate(x_hat, None)):
    assert float(tf.reduce_mean(real[-1])) > float(tf.reduce_mean(fake[-1]))


def test_optimizer_groups_cover_every_variable_once():
  model = GenerativeCompressionModel(preset("tiny").replace(
      entropy_model="hyperprior"))
  model.check_variable_groups()
  assert not set(v.ref() for v in model.generator_variables) & set(
      v.ref() for v in model.discriminator_variables)


def test_rate_reaches_encoder_only_with_beta():
  images = tf.random.stateless_uniform([1, 32, 32, 3], [0, 1])
  for beta, expect_gradient in ((0.0, False), (1.0, True)):
    model = GenerativeCompressionModel(preset("tiny"), Recipe(beta=beta))
    with tf.GradientTape() as tape:
      bits = model(images, training=True).bits
    gradients = tape.gradient(bits, model.encoder.trainable_variables)
    has_gradient = any(g is not None and np.any(g.numpy() != 0)
                       for g in gradients)
    assert has_gradient == expect_gradient


def sc_batch(image, synthesised_columns):
  height, width = image.shape[:2]
  mask = np.zeros((1, height, width), bool)
  mask[:, :, :synthesised_columns] = True
  labels = (np.arange(width)[None, None, :] * 3 // width).repeat(height, 1)
  return dict(image=image[None], labels=labels.astype(np.uint8),
              synthesis_mask=mask)


def test_sc_rate_counts_only_preserved_latents_and_trains_f(small_photo):
  tf.keras.utils.set_random_seed(0)
  model = GenerativeCompressionModel(preset("tiny").replace(
      mode="sc", num_classes=3, discriminator_labels=True))
  model.compile()
  bits = [float(model(sc_batch(small_photo, columns)).bits[0])
          for columns in (0, 32, 64)]  # Of 64: none, half, all synthesised.
  assert bits[0] > bits[1] > 0 and bits[2] == 0
  reconstruction = model(sc_batch(small_photo, 32))
  assert np.all(reconstruction.latents.numpy()[:, :, :2] == 0)
  np.testing.assert_array_equal(reconstruction.preserved.numpy()[0, :, :, 0],
                                np.repeat([[0.0] * 32 + [1.0] * 32], 64, 0))
  before = weights_of(model.semantic_encoder.trainable_variables)
  model.fit(tf.data.Dataset.from_tensors(sc_batch(small_photo, 32)).repeat(),
            epochs=1, steps_per_epoch=2, verbose=0)
  assert changed(before, model.semantic_encoder.trainable_variables)


def test_sc_distortion_has_no_gradient_in_synthesised_pixels(small_photo):
  model = GenerativeCompressionModel(preset("tiny").replace(
      mode="sc", num_classes=3))
  reconstruction = model(sc_batch(small_photo, 32))
  x = tf.constant(small_photo[None], tf.float32) / 255.0
  x_hat = tf.Variable(reconstruction.images)
  with tf.GradientTape() as tape:
    terms = model._distortion_terms(  # pylint: disable=protected-access
        x, reconstruction._replace(images=x_hat))
  gradient = np.abs(tape.gradient(terms["mse"], x_hat).numpy()[0])
  assert np.all(gradient[:, :32] == 0)  # The synthesised left half.
  assert np.all(gradient[:, 32:].sum(axis=-1) > 0)


def test_mixed_bfloat16_trains_float32_weights_close_to_float32(small_photo):
  # No noise channels: both models must see the same generator input.
  config = preset("tiny").replace(noise_channels=0)
  recipe = Recipe(lambda_perceptual=1.0, perceptual_network="alexnet")
  models = {p: GenerativeCompressionModel(config, recipe, precision=p)
            for p in ("float32", "mixed_bfloat16")}
  models["mixed_bfloat16"].set_weights(models["float32"].get_weights())
  dataset = tf.data.Dataset.from_tensors(small_photo[None]).repeat()
  losses = {}
  for precision, model in models.items():
    model.compile()
    history = model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
    losses[precision] = {k: v[0] for k, v in history.history.items()}
    assert all(v.dtype == tf.float32 for v in model.weights)
  mixed = models["mixed_bfloat16"]
  assert mixed.generator.layers[0].compute_dtype == "bfloat16"
  assert mixed.quantizer.compute_dtype == "float32"
  # bfloat16 keeps 8 bits of mantissa: the same step to ~1 %, not exactly.
  for name in ("mse", "perceptual", "gan", "d_loss"):
    assert np.isclose(losses["mixed_bfloat16"][name],
                      losses["float32"][name], rtol=0.05), name
  assert losses["mixed_bfloat16"]["mse"] != losses["float32"]["mse"]


def test_a_mixed_precision_model_validates_and_exports_in_float32(
    small_photo):
  config = preset("tiny").replace(noise_channels=0)
  mixed = GenerativeCompressionModel(config, precision="mixed_bfloat16")
  reference = GenerativeCompressionModel(config)
  reference.set_weights(mixed.get_weights())
  copy = mixed.inference_model()
  assert copy.precision == "float32" and copy is not mixed
  assert reference.inference_model() is reference
  expected = reference(small_photo[None]).images.numpy()
  np.testing.assert_array_equal(copy(small_photo[None]).images.numpy(),
                                expected)
  assert not np.array_equal(mixed(small_photo[None]).images.numpy(),
                            expected)


def test_mixed_bfloat16_sc_with_d_plus_trains(small_photo):
  """F's and D+'s label inputs are cast to bfloat16 with the images."""
  config = preset("tiny").replace(mode="sc", num_classes=3,
                                  discriminator_labels=True)
  model = GenerativeCompressionModel(config, precision="mixed_bfloat16")
  model.compile()
  labels = (np.arange(64)[None, :, None] // 22).repeat(64, 0)[..., 0]
  inputs = dict(image=small_photo[None], labels=labels[None].astype(np.uint8),
                synthesis_mask=np.zeros((1, 64, 64), bool))
  history = model.fit(tf.data.Dataset.from_tensors(inputs).repeat(),
                      epochs=1, steps_per_epoch=1, verbose=0)
  assert history.history["d_loss"][0] > 0
