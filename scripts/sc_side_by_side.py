"""The SC picture of docs/selective.md: original | label map | SC with classes
synthesised | GC at the nearest rate, bpp and scores under each.

    python scripts/sc_side_by_side.py --model=sc-objects-context-c8 \
        --photo=grace_hopper --synthesize=background \
        --out=docs/sc_side_by_side.webp \
        --figures=benchmarks/results/sc_side_by_side.json

The SC model labels the photo with its own labeller; the GC panel is the
bundled GC model (--gc) whose real file is nearest the SC file in size.
PSNR is given on the preserved pixels and on the synthesised ones, LPIPS
(AlexNet) on the whole image. The figures go to --figures as JSON.
"""

import json
import os
import sys

import numpy as np
from absl import app, flags
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tfgc import codec, demo, metrics  # noqa: E402
from tfgc.images import read_image  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("model", "sc-objects-context-c8",
                    "the SC model (name or export)")
flags.DEFINE_list("gc", ["gc-small-c4", "gc-small-c8"],
                  "GC models to choose the nearest rate from")
flags.DEFINE_string("photo", "grace_hopper",
                    "a dev-set photo name or a file")
flags.DEFINE_list("synthesize", ["background"], "classes to synthesise")
flags.DEFINE_string("out", None, "the picture (.webp)", required=True)
flags.DEFINE_integer("quality", 90, "WebP quality of the picture")
flags.DEFINE_string("figures", None, "JSON of the figures", required=True)

# Class colours of the label-map panel, by id (grey for class 0).
COLOURS = np.array([(96, 96, 96), (235, 140, 40), (60, 150, 220),
                    (120, 200, 80)], np.uint8)


def label_panel(labels):
  """uint8 [H, W] class ids -> uint8 [H, W, 3] colours."""
  return COLOURS[labels % len(COLOURS)]


def scores(reference, decoded, data, synthesised):
  """bpp, PSNR of the preserved and synthesised pixels, whole-image
  LPIPS-AlexNet."""
  image = reference.image
  return dict(bytes=len(data),
              bpp=8 * len(data) / (image.shape[0] * image.shape[1]),
              psnr_preserved=metrics.psnr(image, decoded, ~synthesised),
              psnr_synthesised=metrics.psnr(image, decoded, synthesised),
              lpips_alexnet=reference.lpips(decoded, "alexnet"))


def caption(label, figures):
  return [f"{label}: {figures['bpp']:.4f} bpp",
          f"PSNR kept {figures['psnr_preserved']:.1f} dB, painted "
          f"{figures['psnr_synthesised']:.1f} dB, LPIPS "
          f"{figures['lpips_alexnet']:.3f}"]


def main(argv):
  del argv
  image = read_image(demo.photo_path(FLAGS.photo))
  reference = metrics.Reference(image)
  sc = codec.load(FLAGS.model)
  data = sc.compress(image, synthesize=FLAGS.synthesize)
  labels = sc.carried_label_map(data)
  synthesised = sc.synthesis_mask(labels, FLAGS.synthesize)
  figures = dict(photo=FLAGS.photo, synthesised_fraction=float(
      synthesised.mean()), label_map_bytes=codec.info(data)[
          "label_map_bytes"])
  sc_decoded = sc.decompress(data)
  figures[FLAGS.model] = dict(scores(reference, sc_decoded, data,
                                     synthesised), model_id=sc.model_id)
  gc_files = {name: (model, model.compress(image))
              for name, model in ((n, codec.load(n)) for n in FLAGS.gc)}
  gc_name = min(gc_files, key=lambda n: abs(len(gc_files[n][1]) - len(data)))
  gc_model, gc_data = gc_files[gc_name]
  gc_decoded = gc_model.decompress(gc_data)
  figures[gc_name] = dict(scores(reference, gc_decoded, gc_data, synthesised),
                          model_id=gc_model.model_id)
  classes = ", ".join(FLAGS.synthesize)
  panels = [
      (image, ["original", "24 bpp (uncompressed)"]),
      (label_panel(labels),
       [f"{sc.labeller} labeller: {1 - figures['synthesised_fraction']:.0%} "
        f"kept", f"label map {figures['label_map_bytes']} bytes of the SC "
        "file"]),
      (sc_decoded, caption(f"SC, {classes} synthesised",
                           figures[FLAGS.model])),
      (gc_decoded, caption(f"GC {gc_name}", figures[gc_name]))]
  Image.fromarray(demo.side_by_side(panels)).save(FLAGS.out,
                                                  quality=FLAGS.quality)
  with open(FLAGS.figures, "w") as f:
    json.dump(figures, f, indent=2)
  print(json.dumps(figures, indent=2))
  print(f"-> {FLAGS.out}, {FLAGS.figures}")
  return 0


if __name__ == "__main__":
  app.run(lambda argv: sys.exit(main(argv)))
