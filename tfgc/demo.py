"""`make demo`: a smoke demo of the whole pipeline on one photo.

    python -m tfgc.demo --out demo-output

No trained model ships with tfgc yet, so this demo trains the `tiny`
preset for a few hundred steps on one photo, exports it as a SavedModel,
and compresses that photo to a .tfgc file and decodes it with the exported
model (tfgc.codec, as compress.py does). It shows
that the pieces work end to end (real range-coded strings, real sizes); it
is NOT a trained codec and its images are not what tfgc is for.
"""

import argparse
import os
import sys
import time

import numpy as np
import skimage.data
import tensorflow as tf
from PIL import Image

from tfgc import codec, export
from tfgc.config import preset
from tfgc.model import GenerativeCompressionModel

BANNER = ("SMOKE DEMO: the test-sized `tiny` preset fitted for {steps} "
          "steps to this one photo. Not a trained codec.")


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default="demo-output", help="output folder")
  parser.add_argument("--steps", type=int, default=400,
                      help="training steps of the tiny model")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  print(BANNER.format(steps=args.steps))

  photo = skimage.data.astronaut()[::4, ::4]  # 128x128, scikit-image's.
  tf.keras.utils.set_random_seed(0)
  model = GenerativeCompressionModel(preset("tiny").replace(
      warmup_steps=args.steps // 2, learning_rate=1e-3))
  model.compile()
  start = time.time()
  model.fit(tf.data.Dataset.from_tensors(photo[None]).repeat(), epochs=1,
            steps_per_epoch=args.steps, verbose=2)
  print(f"trained {args.steps} steps in {time.time() - start:.0f} s")

  model_dir = os.path.join(args.out, "model")
  export.export(model, model_dir)
  loaded = codec.load(model_dir)
  encoded = loaded.compress(photo)
  with open(os.path.join(args.out, "photo.tfgc"), "wb") as f:
    f.write(encoded)
  decoded = loaded.decompress(encoded)
  header = codec.info(encoded)

  mse = np.mean((photo.astype(np.float64) - decoded) ** 2)
  psnr = 10 * np.log10(255.0 ** 2 / mse)
  Image.fromarray(photo).save(os.path.join(args.out, "original.png"))
  Image.fromarray(decoded).save(os.path.join(args.out, "decoded.png"))
  Image.fromarray(np.concatenate([photo, decoded], axis=1)).save(
      os.path.join(args.out, "original|decoded.png"))
  print(f"model {loaded.model_id} exported to {model_dir}")
  print(f"{header['width']}x{header['height']} photo -> photo.tfgc, "
        f"{header['file_bytes']} bytes ({header['payload_bytes']} of "
        f"range-coded payload) = {header['bits_per_pixel']:.4f} bpp, "
        f"PSNR {psnr:.2f} dB")
  print(f"images in {args.out}/")
  print(BANNER.format(steps=args.steps))
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
