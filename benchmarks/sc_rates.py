"""Rate of an SC model as the synthesised area grows, from real files.

    python benchmarks/sc_rates.py --model=DIR --images=DIR \
        --out=benchmarks/results/sc_rates.json

For each image and each synthesised fraction (0, 25, 50, 75, 100 %: the
left part of the image, so the masks are nested), compresses with the SC
model through `tfgc.codec` and reports the whole file's bpp, the share of
its bytes that is the label map, the latent mask, the latents and the
colour context (models with one), and the PSNR of the preserved pixels
(the user's preserved region). Label maps are the model's own
labeller's unless --labels_dir pairs others.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tfgc import codec, data, metrics  # noqa: E402

FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)


def left_part(shape, fraction):
  """bool [H, W], True on the left `fraction` of the columns."""
  mask = np.zeros(shape, bool)
  mask[:, :round(shape[1] * fraction)] = True
  return mask


def measure(model, image, labels):
  """Per fraction: bytes by section, bpp, PSNR of preserved pixels."""
  rows = []
  for fraction in FRACTIONS:
    synthesised = left_part(image.shape[:2], fraction)
    # The 100 % row paints everything on purpose.
    encoded = model.compress(image, labels, preserve=~synthesised,
                             allow_empty=True)
    header = codec.info(encoded)
    decoded = model.decompress(encoded)
    rows.append(dict(
        fraction=fraction, bpp=header["bits_per_pixel"],
        file_bytes=header["file_bytes"],
        latent_bytes=header["latent_bytes"] + header["side_bytes"],
        label_map_bytes=header["label_map_bytes"],
        mask_bytes=header["latent_mask_bytes"],
        context_bytes=header.get("colour_context_bytes", 0),
        preserved_psnr=metrics.psnr(image, decoded, ~synthesised)))
  return rows


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--model", required=True)
  parser.add_argument("--images", required=True)
  parser.add_argument("--labels_dir", default=None)
  parser.add_argument("--max_short_side", type=int, default=768)
  parser.add_argument("--out", default="benchmarks/results/sc_rates.json")
  args = parser.parse_args(argv)
  model = codec.load(args.model)
  per_image = {}
  for path in data.scan_folder(args.images).paths:
    labels_path = None
    if args.labels_dir:
      labels_path = data.find_label_map(path, args.images, args.labels_dir)
      if labels_path is None:
        continue
    image, labels = data.load_example(path, args.max_short_side, labels_path,
                                      model.num_classes)
    per_image[os.path.relpath(path, args.images)] = measure(model, image,
                                                           labels)
  if not per_image:
    parser.error(f"no images{' with label maps' if args.labels_dir else ''} "
                 f"in {args.images}: give a folder of photos")
  print(f"{'synthesised':>11} {'bpp':>7} {'label map':>9} {'mask':>5} "
        f"{'latents':>7} {'context':>7} {'PSNR preserved':>14}")
  summary = []
  for i, fraction in enumerate(FRACTIONS):
    rows = [r[i] for r in per_image.values()]
    total = sum(r["file_bytes"] for r in rows)
    psnrs = [r["preserved_psnr"] for r in rows
             if r["preserved_psnr"] is not None]
    entry = dict(
        fraction=fraction, bpp=float(np.mean([r["bpp"] for r in rows])),
        label_map_share=sum(r["label_map_bytes"] for r in rows) / total,
        mask_share=sum(r["mask_bytes"] for r in rows) / total,
        latent_share=sum(r["latent_bytes"] for r in rows) / total,
        context_share=sum(r["context_bytes"] for r in rows) / total,
        preserved_psnr=float(np.mean(psnrs)) if psnrs else None)
    summary.append(entry)
    psnr_text = (f"{entry['preserved_psnr']:.2f} dB"
                 if psnrs else "(none preserved)")
    print(f"{fraction:>10.0%} {entry['bpp']:7.4f} "
          f"{entry['label_map_share']:9.1%} {entry['mask_share']:5.1%} "
          f"{entry['latent_share']:7.1%} {entry['context_share']:7.1%} "
          f"{psnr_text:>14}")
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(dict(model=model.model_id, images=len(per_image),
                   summary=summary, per_image=per_image), f, indent=2)
  print(f"{len(per_image)} images -> {args.out}")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
