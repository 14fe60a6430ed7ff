import math

import numpy as np
import pytest
import tensorflow as tf

from tfgc import entropy
from tfgc.config import preset

CHANNELS = 8
CENTERS = np.array([-2, -1, 0, 1, 2], dtype=np.float32)
# Range coder finalisation and tail handling: a few bytes per string.
CODER_OVERHEAD_BITS = 64


def random_latents(probabilities, shape=(1, 32, 32, CHANNELS), seed=0):
  """ŵ drawn i.i.d. from `probabilities` over the centres, float32."""
  rng = np.random.default_rng(seed)
  return tf.constant(rng.choice(CENTERS, size=shape, p=probabilities))


def fitted(model, w_hat, steps=300):
  """Fits the entropy model's density to `w_hat` by minimising its rate."""
  optimizer = tf.keras.optimizers.Adam(1e-2)

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(model(w_hat, training=True))
    variables = model.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
  for _ in range(steps):
    step()
  return model


def real_bits(coder, w_hat):
  """Sizes of the latent and side strings in bits."""
  latent_string, side_string = coder.compress(w_hat)
  return 8 * len(latent_string.numpy()), 8 * len(side_string.numpy())


@pytest.mark.parametrize("kind", ["factorized", "hyperprior"])
@pytest.mark.parametrize("probabilities", [
    [0.05, 0.2, 0.5, 0.2, 0.05], [0.2] * 5], ids=["skewed", "uniform"])
def test_estimate_matches_real_length_and_stays_under_bound(
    kind, probabilities):
  config = preset("tiny").replace(latent_channels=CHANNELS, entropy_model=kind)
  # Fitted on one draw, measured on another: a model fitted to the very
  # latents it codes can memorise them in its weights.
  model = fitted(entropy.entropy_model(config),
                 random_latents(probabilities, seed=0))
  w_hat = random_latents(probabilities, seed=1)
  estimate = float(model(w_hat, training=False)[0])
  latent_bits, side_bits = real_bits(model.make_coder(), w_hat)
  real = latent_bits + side_bits
  bound = w_hat.shape.num_elements() * math.log2(len(CENTERS))
  entropy_of_source = -w_hat.shape.num_elements() * sum(
      p * math.log2(p) for p in probabilities)
  print(f"{kind}: source entropy {entropy_of_source:.0f}, estimate "
        f"{estimate:.0f}, real {latent_bits} + {side_bits} side, bound "
        f"{bound:.0f} bits")
  assert real == pytest.approx(estimate, rel=0.02)
  assert real >= entropy_of_source * 0.98
  if kind == "factorized":
    # A per-channel pmf over the centres can be any pmf, so a fitted model
    # stays under the bound. The hyperprior's zero-mean Gaussians cannot
    # (nor can its side information be free): no bound is claimed for it.
    assert real <= bound + CODER_OVERHEAD_BITS


@pytest.mark.parametrize("kind", ["factorized", "hyperprior"])
def test_coder_round_trips_latents_exactly(kind):
  w_hat = random_latents([0.1, 0.2, 0.4, 0.2, 0.1], shape=(1, 5, 7, CHANNELS))
  config = preset("tiny").replace(latent_channels=CHANNELS, entropy_model=kind)
  coder = entropy.entropy_model(config).make_coder()
  latent_string, side_string = coder.compress(w_hat)
  decoded = coder.decompress(latent_string, side_string, tf.constant([5, 7]))
  np.testing.assert_array_equal(decoded.numpy(), w_hat.numpy())


def test_rate_is_differentiable_in_training():
  model = entropy.entropy_model(preset("tiny"))
  w_hat = tf.Variable(random_latents([0.2] * 5, shape=(2, 4, 4, 4)))
  with tf.GradientTape() as tape:
    bits = model(w_hat, training=True)
  assert bits.shape == (2,)
  assert np.any(tape.gradient(bits, w_hat).numpy() != 0)
