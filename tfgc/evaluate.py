"""Rate–distortion–perception evaluation of tfgc models and classical codecs.

    tfgc evaluate --images=DIR --models=DIR[,DIR...] \\
        --codecs=jpeg,webp,avif,jpeg2000,hevc,x265,jxl --out=DIR

For every image: each model compresses and decompresses it (real .tfgc
files, header included); each codec is driven by bisection to a grid of
target rates, to each model's rate on that image ("matched") and to twice
it ("double"), and the achieved bpp of its real file is recorded; PSNR,
MS-SSIM and LPIPS are computed on every decoded image, and every encode and
decode is timed in this same run. Progress goes to stderr, a line as each
model and codec starts on an image, with an estimate of the time left
(--quiet: none). At the end it prints the answer on stdout: the means of
each model and of the codecs at its rate, and its BD-rates in words.
Writes to --out:

    results.csv          one row per image, method and target rate
    summary.json         means at the operating points, codecs at matched
                         and double rate, BD-rates, times, container bytes
    rd_<metric>.png/svg  rate–distortion plots
    report.html          offline report: tables, plots, side-by-side crops
    crops/               the crops the report shows
"""

import argparse
import csv
import dataclasses
import hashlib
import json
import os
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from tfgc import baselines, bdrate, codec as codec_lib, labelmaps, metrics
from tfgc import extras, quiet
from tfgc.errors import TfgcError
from tfgc.images import ImageError, list_files, read_image, save_png
from tfgc.lpips import MIN_SIDE, measures
from tfgc.progress import Steps

DEFAULT_CODECS = ("jpeg", "webp", "avif", "jpeg2000", "hevc", "x265", "jxl")
DEFAULT_GRID = (0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
                1.0)
LPIPS_NETS = ("alexnet", "vgg16")
# The learned metrics scored beside PSNR and MS-SSIM (`metrics.Reference`):
# DISTS and LPIPS are the default recipe's judges, except LPIPS-AlexNet,
# which it trains on (docs/training.md, "Best checkpoint").
PERCEPTUAL = ("dists", "lpips_alexnet", "lpips_vgg16")
# Metrics whose BD-rates are reported, and whether higher is better.
BD_METRICS = {"psnr": True, "ms_ssim": True, "dists": False,
              "lpips_alexnet": False, "lpips_vgg16": False}


@dataclasses.dataclass
class Point:
  """One decoded image of one method on one image (a row of results.csv).

  role: "operating point" (a model), "grid", "matched:<model>" or
  "double:<model>" (a codec at a target rate). target_bpp: the rate asked
  of a codec (None for models). bpp: the real file's, header included.
  quality: the codec's setting (None for models). container_bytes: bytes
  of the file that are headers and container, not coded image data.
  scores: metric name -> value.
  """
  image: str
  width: int
  height: int
  method: str
  kind: str
  role: str
  target_bpp: Optional[float]
  bpp: float
  reached: bool
  quality: Optional[float]
  file_bytes: int
  container_bytes: int
  scores: Dict[str, float]
  encode_seconds: float
  decode_seconds: float

  def row(self):
    row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
           if f.name != "scores"}
    row.update(self.scores)
    return row


@dataclasses.dataclass(frozen=True)
class Decoded:
  """A scored decoded image: the `Point` and the pixels, uint8 [H, W, 3]."""
  point: Point
  pixels: np.ndarray


def score(original, decoded, perceptual):
  """Metric name -> value; `original` a `metrics.Reference`, `decoded`
  uint8 [H, W, 3]."""
  scores = dict(psnr=metrics.psnr(original.image, decoded),
                ms_ssim=metrics.ms_ssim(original.image, decoded))
  for name in perceptual:
    scores[name] = original.perceptual(decoded, name)
  return scores


def _coded(model, image, **selection):
  """(file bytes, decoded uint8 [H, W, 3], encode and decode seconds)."""
  start = time.perf_counter()
  data = model.compress(image, **selection)
  encode_seconds = time.perf_counter() - start
  start = time.perf_counter()
  decoded = model.decompress(data)
  return data, decoded, encode_seconds, time.perf_counter() - start


def _point(image_name, method, role, data, scores, seconds):
  header = codec_lib.info(data)
  return Point(image_name, header["width"], header["height"], method,
               "model", role, None, header["bits_per_pixel"], True, None,
               len(data), len(data) - header["payload_bytes"], scores,
               *seconds)


def evaluate_model(name, model, image_name, reference, perceptual):
  """Compresses and decodes `reference.image` with a loaded
  `tfgc.codec.Codec` (SC models: everything preserved, on their
  labeller's map)."""
  data, decoded, *seconds = _coded(model, reference.image)
  point = _point(image_name, name, "operating point", data,
                 score(reference, decoded, perceptual), seconds)
  return Decoded(point, decoded)


def synthesised_method(name):
  """The method name of SC model `name` with classes synthesised."""
  return f"{name} synthesised"


def evaluate_selective(name, model, image_name, reference, perceptual,
                       synthesize, preserved):
  """SC `model` with the classes `synthesize` (ids or its labeller's
  names) synthesised, on the label map it makes itself: the whole image's
  scores, plus the PSNR of the preserved and of the synthesised pixels,
  the preserved pixels' PSNR in `preserved` (the all-preserved `Decoded`)
  and the synthesised share of the pixels. None if the image has nothing
  to synthesise or nothing to preserve."""
  image = reference.image
  # Images with nothing to preserve are written (and skipped below).
  data, decoded, *seconds = _coded(model, image, synthesize=synthesize,
                                   allow_empty=True)
  synthesised = model.synthesis_mask(model.carried_label_map(data),
                                     synthesize)
  if synthesised.all() or not synthesised.any():
    return None
  scores = score(reference, decoded, perceptual)
  scores.update(
      synthesised_fraction=float(synthesised.mean()),
      psnr_preserved=metrics.psnr(image, decoded, ~synthesised),
      psnr_preserved_all=metrics.psnr(image, preserved.pixels, ~synthesised),
      psnr_synthesised=metrics.psnr(image, decoded, synthesised))
  point = _point(image_name, synthesised_method(name),
                 "synthesised:" + ",".join(map(str, synthesize)), data,
                 scores, seconds)
  return Decoded(point, decoded)


class ScoreCache:
  """Metric values of decoded files, kept in a JSON file across runs.

  Keyed by the SHA-256 of the original pixels, of the encoded file and the
  metric names, so a value is reused only for the very same file of the
  very same image. Codec files do not change between runs, so evaluating
  a new model re-scores only the codecs' files at its new rates.
  """

  def __init__(self, path=None):
    self.path = path
    self.values = {}
    if path and os.path.exists(path):
      with open(path) as f:
        self.values = json.load(f)

  @staticmethod
  def key(image, data, names):
    digest = hashlib.sha256(np.ascontiguousarray(image).tobytes())
    digest.update(hashlib.sha256(data).digest())
    digest.update(",".join(names).encode())
    return digest.hexdigest()

  def scores(self, reference, data, decoded, perceptual):
    """`score(reference, decoded, perceptual)`, computed once per file."""
    key = self.key(reference.image, data, perceptual)
    if key not in self.values:
      self.values[key] = score(reference, decoded, perceptual)
    return self.values[key]

  def save(self):
    if self.path:
      with open(self.path, "w") as f:
        json.dump(self.values, f)


def evaluate_codec(name, image_name, reference, targets, perceptual, cache):
  """The codec at each (target bpp, role) of `targets` -> list of `Decoded`.

  Each distinct file is decoded and scored once (scores through the
  `ScoreCache`); its encode time is that of the encoder call that made it,
  its decode time is measured here.
  """
  search = baselines.RateSearch(name, reference.image)
  height, width = reference.image.shape[:2]
  scored = {}
  found = []
  for target, role in targets:
    result = search.at_bpp(target)
    if result.quality not in scored:
      start = time.perf_counter()
      decoded = baselines.decode(name, result.data)
      decode_seconds = time.perf_counter() - start
      scored[result.quality] = (
          decoded, cache.scores(reference, result.data, decoded, perceptual),
          decode_seconds)
    decoded, scores, decode_seconds = scored[result.quality]
    point = Point(image_name, width, height, name, "codec", role, target,
                  result.bpp, result.reached, result.quality,
                  len(result.data),
                  baselines.container_bytes(name, result.data), scores,
                  result.encode_seconds, decode_seconds)
    found.append(Decoded(point, decoded))
  return found


def center_crop_box(height, width, size):
  """(top, left, side) of the centred square crop of at most `size`."""
  side = min(size, height, width)
  return (height - side) // 2, (width - side) // 2, side


def model_names(paths):
  """Short unique display names for model paths or bundled names."""
  names = []
  for path in paths:
    base = os.path.basename(os.path.normpath(path)) or path
    name, n = base, 2
    while name in names:
      name, n = f"{base}-{n}", n + 1
    names.append(name)
  return names


def _stderr(line):
  print(line, file=sys.stderr, flush=True)


def run(images_dir, model_paths, codec_names, out, grid=DEFAULT_GRID,
        perceptual=PERCEPTUAL, crop=256, score_cache=None, synthesize=(),
        log=_stderr, progress=_stderr):
  """Evaluates everything; writes the outputs to `out`; returns the summary.

  score_cache: path of a `ScoreCache` file to reuse and update, or None.
  synthesize: classes (ids or labeller class names) that SC models also
    compress synthesised (`evaluate_selective`), beside all-preserved.
  log: called with each notice (a skipped image) as a line.
  progress: called with each progress line (`tfgc.progress.Steps`: one per
    model or codec and image, with an ETA), or None for none.
  """
  from tfgc import report  # matplotlib is needed only from here on.
  for name in codec_names:
    baselines.codec(name)  # Fails now, not after the first image.
  paths = list_files(images_dir)
  if not paths:
    raise TfgcError(f"no images in {images_dir}")
  steps = Steps(progress)
  steps.note("loading " + ", ".join(f"tfgc {name}"
                                    for name in model_names(model_paths)))
  models = _load_models(model_paths, synthesize)
  per_image = _steps_per_image(models, codec_names, synthesize)
  steps.total = len(paths) * per_image
  os.makedirs(os.path.join(out, "crops"), exist_ok=True)
  cache = ScoreCache(score_cache)

  points: List[Point] = []
  crops = []
  for path in paths:
    image_name = os.path.relpath(path, images_dir)
    image = _measurable_image(path, image_name, perceptual, log)
    if image is None:
      steps.total -= per_image
      continue
    reference = metrics.Reference(image)
    decoded = _model_points(models, image_name, reference, perceptual,
                            synthesize, log, steps)
    targets = _codec_targets(grid, decoded)
    for name in codec_names:
      steps.start(f"{name} on {image_name} ({len(targets)} target rates)")
      decoded += evaluate_codec(name, image_name, reference, targets,
                                perceptual, cache)
    cache.save()
    points += [d.point for d in decoded]
    crops.append(save_crops(out, image_name, image, decoded, crop))

  if not points:
    raise TfgcError(f"no readable images in {images_dir}")
  steps.note(f"{steps.finished()}; writing results.csv, summary.json, "
             "plots and report.html")
  summary = _write_results(out, points, models, codec_names, perceptual, grid)
  plots = report.write_plots(out, points, summary)
  report.write_html(out, summary, plots, crops)
  return summary


def _load_models(model_paths, synthesize):
  """Display name -> loaded `tfgc.codec.Codec`, each traced once (outside
  the timings); refuses SC models that cannot label photos themselves and
  `synthesize` classes a model has not got."""
  models = {name: codec_lib.load(path)
            for name, path in zip(model_names(model_paths), model_paths)}
  for name, model in models.items():
    if model.selective:
      if not model.labeller:
        raise TfgcError(f"{name} is an SC model without a labeller of its "
                        "own, so it cannot label the photos: evaluate SC "
                        "models trained with tfgc train --labeller")
      labelmaps.class_ids(synthesize, model.num_classes, model.class_names)
    model.decompress(model.compress(np.zeros((16, 16, 3), np.uint8)))
  return models


def _measurable_image(path, image_name, perceptual, log):
  """The image at `path`, uint8 [H, W, 3], or None (logged) if it cannot
  be read or is too small for an LPIPS network of `perceptual`."""
  try:
    image = read_image(path)
  except ImageError as e:
    log(f"skipping {e}")
    return None
  too_small = [n for n in LPIPS_NETS if f"lpips_{n}" in perceptual
               and not measures(n, image.shape)]
  if too_small:
    log(f"skipping {image_name}: LPIPS-{too_small[0]} needs at least "
        f"{MIN_SIDE[too_small[0]]} px a side")
    return None
  return image


def _steps_per_image(models, codec_names, synthesize):
  """Progress steps on one image: each model, each SC model again with
  `synthesize`, each codec."""
  selective = sum(model.selective for model in models.values())
  return len(models) + (selective if synthesize else 0) + len(codec_names)


def _model_points(models, image_name, reference, perceptual, synthesize,
                  log, steps):
  """Every model's `Decoded` on the image, then (with `synthesize`) every
  SC model's with those classes synthesised, where the image has some;
  each a step of `steps`."""
  decoded = []
  for name, model in models.items():
    steps.start(f"tfgc {name} on {image_name}")
    decoded.append(evaluate_model(name, model, image_name, reference,
                                  perceptual))
  for preserved, (name, model) in zip(list(decoded), models.items()):
    if not model.selective or not synthesize:
      continue
    steps.start(f"tfgc {synthesised_method(name)} on {image_name}")
    selective = evaluate_selective(name, model, image_name, reference,
                                   perceptual, synthesize, preserved)
    if selective is None:
      log(f"{image_name}: nothing to synthesise or nothing to preserve, "
          f"no point of {synthesised_method(name)}")
    else:
      decoded.append(selective)
  return decoded


def _codec_targets(grid, decoded):
  """The codecs' (target bpp, role) on an image: the grid, then each
  model point's rate ("matched") and twice it ("double")."""
  targets = [(t, "grid") for t in grid]
  for d in decoded:
    targets += [(d.point.bpp, f"matched:{d.point.method}"),
                (2 * d.point.bpp, f"double:{d.point.method}")]
  return targets


def _write_results(out, points, models, codec_names, perceptual, grid):
  """Writes results.csv and summary.json to `out`; returns the summary."""
  write_csv(os.path.join(out, "results.csv"), points)
  summary = summarize(points, list(models), codec_names, perceptual)
  summary["selective"] = summarize_selective(points, models, perceptual)
  summary["models"] = {name: dict(path=model.path, model_id=model.model_id)
                       for name, model in models.items()}
  summary["grid_bpp"] = list(grid)
  with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
  return summary


def save_crops(out, image_name, image, decoded, size):
  """Saves the centre crop of the original and of each model's decoding
  and each codec's at each model's matched rate; returns their listing:
  dict(image, original, models: [{method, file, point, matched: [...]}])."""
  top, left, side = center_crop_box(*image.shape[:2], size)
  folder = os.path.join("crops", image_name.replace(os.sep, "_"))
  os.makedirs(os.path.join(out, folder), exist_ok=True)

  def save(label, pixels):
    relative = os.path.join(folder, f"{label}.png")
    save_png(os.path.join(out, relative),
             np.ascontiguousarray(pixels[top:top + side, left:left + side]))
    return relative

  listing = dict(image=image_name, original=save("original", image),
                 models=[])
  for model in (d for d in decoded if d.point.kind == "model"):
    matched = [dict(method=d.point.method, point=d.point,
                    file=save(f"{model.point.method}-{d.point.method}",
                              d.pixels))
               for d in decoded
               if d.point.role == f"matched:{model.point.method}"]
    listing["models"].append(dict(method=model.point.method,
                                  point=model.point,
                                  file=save(model.point.method, model.pixels),
                                  matched=matched))
  return listing


def write_csv(path, points):
  fields = list(points[0].row())
  for p in points:
    fields += [k for k in p.row() if k not in fields]
  with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    for p in points:
      writer.writerow(p.row())


def _mean(values):
  values = [v for v in values if v is not None]
  return float(np.mean(values)) if values else None


def _means(points, score_names):
  """Mean bpp, scores, times and reach count of a list of points."""
  if not points:
    return None
  megapixels = sum(p.width * p.height for p in points) / 1e6
  encode = sum(p.encode_seconds for p in points)
  decode = sum(p.decode_seconds for p in points)
  return dict(
      images=len(points), reached=sum(p.reached for p in points),
      bpp=_mean([p.bpp for p in points]),
      container_bytes=_mean([p.container_bytes for p in points]),
      **{name: _mean([p.scores[name] for p in points])
         for name in score_names},
      encode_seconds=encode / len(points),
      decode_seconds=decode / len(points),
      encode_megapixels_per_second=megapixels / encode if encode else None,
      decode_megapixels_per_second=megapixels / decode if decode else None)


def _quality(point, metric):
  value = point.scores[metric]
  return value if BD_METRICS[metric] else -value


def _select(points, **fields):
  return [p for p in points
          if all(getattr(p, k) == v for k, v in fields.items())]


def _score_names(perceptual):
  return ["psnr", "ms_ssim"] + list(perceptual)


def summarize(points, model_names_, codec_names, perceptual):
  """The summary.json dict (see docs/evaluation.md). SC models'
  synthesised points (`evaluate_selective`) count as models of their own
  here, without BD-rates: they cover only some of the images."""
  score_names = _score_names(perceptual)
  bd_metrics = [m for m in BD_METRICS if m in score_names]
  images = sorted({p.image for p in points})
  methods = model_names_ + [
      synthesised_method(m) for m in model_names_
      if _select(points, method=synthesised_method(m))]
  return dict(
      images=len(images), metrics=score_names,
      operating_points={m: _means(_select(points, method=m), score_names)
                        for m in methods},
      matched=_codecs_at(points, "matched", methods, codec_names,
                         score_names),
      double=_codecs_at(points, "double", methods, codec_names, score_names),
      bd_rate={m: {c: _bd_rates(points, m, c, bd_metrics, images)
                   for c in codec_names} for m in model_names_},
      codec_floor={c: _codec_floor(points, c, score_names)
                   for c in codec_names})


def _codecs_at(points, rate, methods, codec_names, score_names):
  """Method -> codec -> the codec's means at the method's `rate`
  ("matched" or "double")."""
  return {m: {c: _means(_select(points, method=c, role=f"{rate}:{m}"),
                        score_names)
              for c in codec_names}
          for m in methods}


def _bd_rates(points, model, codec, bd_metrics, images):
  """Metric -> `_bd_rate` of `model` against `codec` on it."""
  return {metric: _bd_rate(points, model, codec, metric, images)
          for metric in bd_metrics}


def _bd_rate(points, model, codec, metric, images):
  """The mean BD-rate (percent) of `model` against `codec` over `images`,
  the images it is known on, and the images where the model's quality lies
  below or above the codec's measured range (the BD-rate unknown)."""
  per_image, worse, better = [], 0, 0
  for image in images:
    test = _rd_points(points, model, image, metric)
    anchor = _rd_points(points, codec, image, metric)
    per_image.append(bdrate.bd_rate(anchor, test))
    if per_image[-1] is None:  # Outside the codec's measured range.
      worse += max(q for _, q in test) < min(q for _, q in anchor)
      better += min(q for _, q in test) > max(q for _, q in anchor)
  return dict(percent=bdrate.mean_bd_rate(per_image),
              images=sum(v is not None for v in per_image),
              below_codec_range=worse, above_codec_range=better)


def _rd_points(points, method, image, metric):
  """(bpp, `_quality`) of each of `method`'s points on `image`."""
  return [(p.bpp, _quality(p, metric))
          for p in _select(points, method=method, image=image)]


def _codec_floor(points, codec, score_names):
  """The means of the smallest file `codec` made of each image."""
  smallest = {}
  for p in _select(points, method=codec):
    if p.image not in smallest or p.bpp < smallest[p.image].bpp:
      smallest[p.image] = p
  return _means(list(smallest.values()), score_names)


def summarize_selective(points, models, perceptual):
  """Per SC model with synthesised points, on the images that have them:
  the means all preserved and synthesised (whole image; for the latter
  also the PSNR of the preserved pixels, theirs all preserved, and of the
  synthesised ones), the bits saved, and every model's mean bpp."""
  score_names = _score_names(perceptual)
  selective = {}
  for name in models:
    method = synthesised_method(name)
    synthesised = _select(points, method=method)
    if not synthesised:
      continue
    images = {p.image for p in synthesised}
    on_images = lambda m: [p for p in _select(points, method=m)  # noqa: E731
                           if p.image in images]
    all_preserved = _means(on_images(name), score_names)
    means = _means(synthesised, score_names + [
        "synthesised_fraction", "psnr_preserved", "psnr_preserved_all",
        "psnr_synthesised"])
    selective[name] = dict(
        method=method, classes=synthesised[0].role.split(":", 1)[1],
        images=sorted(images), all_preserved=all_preserved,
        synthesised=means,
        bpp_saved_percent=100 * (1 - means["bpp"] / all_preserved["bpp"]),
        bpp_of_models={m: _means(on_images(m), [])["bpp"] for m in models})
  return selective


def main(argv):
  parser = argparse.ArgumentParser(
      prog="tfgc evaluate", description=__doc__.split("\n")[0],
      formatter_class=argparse.RawDescriptionHelpFormatter,
      epilog="\n".join(__doc__.split("\n")[2:]))
  parser.add_argument("--images", required=True,
                      help="folder of images (searched recursively); "
                           "`tfgc devset` makes one")
  parser.add_argument("--models", default=None,
                      help="comma-separated export directories or bundled "
                           "model names (default: the bundled default)")
  parser.add_argument("--codecs", default=",".join(DEFAULT_CODECS),
                      help="comma-separated, from "
                           f"{','.join(baselines.CODECS)} (default: all)")
  parser.add_argument("--out", required=True, help="output folder")
  parser.add_argument("--bpps", default=",".join(map(str, DEFAULT_GRID)),
                      help="the codecs' grid of target rates, bpp")
  parser.add_argument("--lpips", default=",".join(LPIPS_NETS),
                      help="comma-separated LPIPS networks from "
                           f"{','.join(LPIPS_NETS)} (default: all)")
  parser.add_argument("--dists", action=argparse.BooleanOptionalAction,
                      default=True,
                      help="score DISTS too (default: yes)")
  parser.add_argument("--crop", type=int, default=256,
                      help="side of the report's centre crops, pixels")
  parser.add_argument("--synthesize", default="",
                      help="SC models: also compress each image with these "
                           "classes synthesised (ids or the labeller's "
                           "names, e.g. background), on the label map the "
                           "model makes itself; summary.json's `selective` "
                           "compares them with all preserved")
  parser.add_argument("--score_cache", default=None,
                      help="JSON file of metric values of codec files, "
                           "reused across runs (keyed by content): "
                           "re-evaluating a new model then scores only "
                           "the codec files at its new rates")
  parser.add_argument("--quiet", action="store_true",
                      help="no progress lines on stderr (skipped images "
                           "and errors are still reported)")
  quiet.add_flag(parser)
  args = parser.parse_args(argv)
  quiet.configure(args.verbose)
  try:
    extras.require("eval")
    model_paths = [codec_lib.resolve(m or None) for m in
                   (args.models.split(",") if args.models else [None])]
    codec_names = [c for c in args.codecs.split(",") if c]
    lpips_nets = [n for n in args.lpips.split(",") if n]
    unknown = sorted(set(lpips_nets) - set(LPIPS_NETS))
    if unknown:
      raise TfgcError(f"unknown LPIPS network {unknown[0]!r}; choose from "
                      f"{', '.join(LPIPS_NETS)}")
    perceptual = ((["dists"] if args.dists else [])
                  + [f"lpips_{n}" for n in lpips_nets])
    try:
      grid = sorted(float(b) for b in args.bpps.split(",") if b)
    except ValueError:
      raise TfgcError(f"--bpps={args.bpps} is not a list of numbers") from None
    if args.crop < 16:
      raise TfgcError("--crop must be at least 16")
    summary = run(args.images, model_paths, codec_names, args.out, grid,
                  perceptual, args.crop, args.score_cache,
                  [c for c in args.synthesize.split(",") if c],
                  progress=None if args.quiet else _stderr)
  except TfgcError as e:
    print(f"{parser.prog}: {e}", file=sys.stderr)
    return 1
  from tfgc import report  # Imported by `run` already.
  print(report.text_summary(summary))
  print(f"\nresults, plots and report.html in {args.out}/")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
