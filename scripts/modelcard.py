"""Writes a bundled model's MODEL_CARD.md from measured files only: the
release tooling of this project's own models (its Data and Training
sections describe how they are made here, from Debian packages on a 2-core
CPU), so it lives beside scripts/release_model.sh, not in the package.

    python scripts/modelcard.py --model=tfgc/zoo/gc-small-c8 \\
        --summary=eval/summary.json --data_manifest=~/tfgc-data/manifest.json \\
        --logs=RUN/ckpt/logs,RUN/adversarial/ckpt/logs --history="..."

Every figure comes from a file: the export's model.json and training.json
(id, config, parameters, the last stage's command), the training photos'
manifest (scripts/gather_training_photos.py), the TensorBoard event files
(steps and wall time) and `tfgc evaluate`'s summary.json (dev-set
figures, the quality bar; for SC models with `--synthesize`, the
synthesised figures). The summary's first model is the card's; the others
are listed for comparison (an SC model beside the GC model it started
from). `--history` adds what no file here records (for example stages
whose run directory was lost), in words.
"""

import argparse
import collections
import glob
import json
import os
import sys

import tensorflow as tf

from tfgc import labellers, zoo
from tfgc.config import Config
from tfgc.errors import TfgcError

METRICS = (("bpp", "bpp", "{:.4f}"), ("psnr", "PSNR (dB)", "{:.2f}"),
           ("ms_ssim", "MS-SSIM", "{:.3f}"), ("dists", "DISTS", "{:.3f}"),
           ("lpips_alexnet", "LPIPS-Alex", "{:.3f}"),
           ("lpips_vgg16", "LPIPS-VGG", "{:.3f}"))


def _load_json(path):
  try:
    with open(os.path.expanduser(path)) as f:
      return json.load(f)
  except (OSError, ValueError) as e:
    raise TfgcError(f"cannot read {path}: {e}") from None


def training_time(log_dir, last_step=None):
  """(steps, seconds) of one stage from its TensorBoard event files,
  counting events up to `last_step` (None: all).

  Each event file is one process; its time is its first to last event, so
  the pauses between sessions are not counted.
  """
  files = glob.glob(os.path.join(os.path.expanduser(log_dir), "**",
                                 "events.out.tfevents.*"), recursive=True)
  if not files:
    raise TfgcError(f"no TensorBoard event files in {log_dir}")
  seconds, steps = 0.0, 0
  for path in files:
    times = [(event.step, event.wall_time)
             for event in tf.compat.v1.train.summary_iterator(path)
             if event.HasField("summary")
             and (last_step is None or event.step <= last_step)]
    if times:
      steps = max(steps, max(step for step, _ in times))
      seconds += (max(t for _, t in times) - min(t for _, t in times))
  return steps, seconds


def _row(name, point, note=""):
  cells = [METRICS[0][2].format(point["bpp"])]
  cells += [fmt.format(point[key]) if key in point else "–"
            for key, _, fmt in METRICS[1:]]
  reached = (f" ({point['reached']} of {point['images']} reached the rate)"
             if point.get("reached", point["images"]) < point["images"]
             else "")
  return f"| {name}{note}{reached} | " + " | ".join(cells) + " |"


def figures_section(summary, name):
  """The dev-set table, BD-rates and the quality bar, in Markdown."""
  model = next(iter(summary["operating_points"]))
  point = summary["operating_points"][model]
  lines = ["## Dev-set figures", "",
           f"{summary['images']} photos of `tfgc devset`, real "
           "file sizes (headers included), means over the photos. A codec "
           "that cannot reach the rate on a photo counts with its smallest "
           "file there, so its mean bpp is higher.", "",
           "| method | " + " | ".join(t for _, t, _ in METRICS) + " |",
           "|---|" + "---:|" * len(METRICS),
           _row(f"**tfgc {name}**", point)]
  lines += [_row(f"tfgc {other} (for comparison)",
                 summary["operating_points"][other])
            for other in list(summary["models"])[1:]]
  for role, note in (("matched", " at the same bpp"),
                     ("double", " at twice the bpp")):
    for codec, codec_point in summary[role][model].items():
      lines.append(_row(codec, codec_point, note))
  lines += ["", "BD-rate on LPIPS-AlexNet (negative: tfgc needs fewer bits "
            "for the same LPIPS):", "",
            "| codec | BD-rate | photos where defined | tfgc worse than "
            "the codec's smallest file |", "|---|---:|---:|---:|"]
  for codec, by_metric in summary["bd_rate"][model].items():
    bd = by_metric["lpips_alexnet"]
    value = "–" if bd["percent"] is None else f"{bd['percent']:+.1f} %"
    lines.append(f"| {codec} | {value} | {bd['images']} | "
                 f"{bd['below_codec_range']} |")
  lines += ["", "### The quality bar (LPIPS-AlexNet, lower is better)", ""]
  lpips = point["lpips_alexnet"]
  checks = [(f"{codec} at the same bpp", p["lpips_alexnet"])
            for codec, p in summary["matched"][model].items()]
  checks += [(f"{codec} at twice the bpp", summary["double"][model][codec]
              ["lpips_alexnet"]) for codec in ("jpeg", "webp")
             if codec in summary["double"][model]]
  for label, value in checks:
    verdict = "met" if lpips < value else "**not met**"
    lines.append(f"- tfgc {lpips:.3f} against {label} {value:.3f}: "
                 f"{verdict}")
  return lines


def selective_section(entry, config, name, evaluated_as):
  """`tfgc evaluate --synthesize`'s figures of the model `name`
  (`evaluated_as` in the summary)."""
  names = labellers.class_names(config.labeller, config.num_classes)
  classes = ", ".join(names[int(c)] if c.isdigit() else c
                      for c in entry["classes"].split(","))
  preserved, synthesised = entry["all_preserved"], entry["synthesised"]
  others = ", ".join(f"{name if m == evaluated_as else m} {bpp:.4f}"
                     for m, bpp in entry["bpp_of_models"].items())
  return [
      f"## With {classes} synthesised", "",
      f"On the {len(entry['images'])} photos where the {config.labeller} "
      f"labeller finds something to keep ({', '.join(entry['images'])}), "
      f"compressed with {classes} synthesised "
      f"(`tfgc evaluate --synthesize`): "
      f"{synthesised['synthesised_fraction']:.0%} of their pixels "
      f"synthesised, {entry['bpp_saved_percent']:.0f} % of the bits saved. "
      f"Mean bpp of each model on these photos: {others}.", "",
      "| | bpp | PSNR preserved pixels (dB) | PSNR synthesised pixels (dB) "
      "| LPIPS-Alex whole image |",
      "|---|---:|---:|---:|---:|",
      f"| all preserved | {preserved['bpp']:.4f} | "
      f"{synthesised['psnr_preserved_all']:.2f} | – | "
      f"{preserved['lpips_alexnet']:.3f} |",
      f"| {classes} synthesised | {synthesised['bpp']:.4f} | "
      f"{synthesised['psnr_preserved']:.2f} | "
      f"{synthesised['psnr_synthesised']:.2f} | "
      f"{synthesised['lpips_alexnet']:.3f} |"]


def sc_rates_section(sc_rates):
  """`benchmarks/sc_rates.py`'s results as a Markdown table."""
  lines = ["## Rate against the synthesised area", "",
           f"`benchmarks/sc_rates.py` on the same {sc_rates['images']} "
           "photos: the left part of each is synthesised, the rest "
           "preserved; the model's own labeller's maps.", "",
           "| synthesised | bpp | label map | latents | colour context "
           "| PSNR preserved (dB) |",
           "|---:|---:|---:|---:|---:|---:|"]
  for row in sc_rates["summary"]:
    psnr = row["preserved_psnr"]
    lines.append(f"| {row['fraction']:.0%} | {row['bpp']:.4f} | "
                 f"{row['label_map_share']:.1%} | {row['latent_share']:.1%} "
                 f"| {row['context_share']:.1%} "
                 f"| {'–' if psnr is None else f'{psnr:.2f}'} |")
  return lines


def write(model_dir, summary, manifest, log_dirs, history="", sc_rates=None):
  """Writes `model_dir`/MODEL_CARD.md; returns its text.

  sc_rates: `benchmarks/sc_rates.py`'s output for this model, or None.
  """
  description = _load_json(os.path.join(model_dir, "model.json"))
  training = _load_json(os.path.join(model_dir, "training.json"))
  config = description["config"]
  model_config = Config.from_json(json.dumps(config))
  name = os.path.basename(os.path.normpath(model_dir))
  evaluated_as = next(iter(summary["models"]))
  evaluated = summary["models"][evaluated_as]["model_id"]
  if evaluated != description["model_id"]:
    raise TfgcError(f"{name}'s model id {description['model_id']} is not "
                    f"that of the summary's first model ({evaluated}); "
                    "evaluate this export first")
  if sc_rates is not None and sc_rates["model"] != description["model_id"]:
    raise TfgcError(f"the SC rates are of model {sc_rates['model']}, not "
                    f"{name}'s {description['model_id']}")
  stages = [training_time(d) for d in log_dirs[:-1]]
  # Logged every few steps: the export's own step counts for the last.
  stages.append((training["step"],
                 training_time(log_dirs[-1], training["step"])[1]))
  parameters = description["parameters"]
  split = collections.Counter(p["file"].split("/")[0] for p in manifest)
  packages = sorted({(p["package"], p["licence"]) for p in manifest})
  lines = [f"# {name}", "",
           f"**Model id:** `{description['model_id']}`", "",
           f"{'Selective' if config['mode'] == 'sc' else 'Global'} "
           f"generative compression, preset `{config['name']}`, "
           f"C = {config['latent_channels']} latent channels "
           f"(rate bound {model_config.bits_per_pixel_bound:.4f} bpp before "
           f"entropy coding). Parameters: encoder {parameters['encoder']:,}, "
           f"generator {parameters['generator']:,}, entropy model "
           f"{parameters['entropy_model']:,} (exported); discriminator "
           f"{parameters['discriminator']:,} (training only).", ""]
  if model_config.realism_dial:
    lines += [f"Realism dial: one file decodes at any r in [0, 1], from the "
              f"MSE-trained image (0) to the fully generative one (1); "
              f"default r = {description['default_realism']:g} "
              f"(`tfgc decompress --realism=R`).", ""]
  if model_config.labeller:
    classes = labellers.class_names(model_config.labeller,
                                    model_config.num_classes)
    lines += [f"Label maps: the `{model_config.labeller}` labeller's "
              f"(`tfgc/labellers/`), which the model runs itself when "
              f"compressing; classes "
              + ", ".join(f"{i} {c}" for i, c in enumerate(classes))
              + ".", ""]
  lines += [
           "## Data", "",
           f"{split['train']} training and {split['val']} validation images "
           "gathered from Debian packages by "
           "`scripts/gather_training_photos.py`, duplicates and "
           "near-duplicates dropped; the manifest records each file's "
           "package and licence. Packages (copyright file in the data "
           "folder) and the files taken from each:", ""]
  for package, licence in packages:
    sources = sorted(os.path.basename(p["source"]) for p in manifest
                     if p["package"] == package)
    lines.append(f"- {package} (`{licence}`): {', '.join(sources)}")
  lines += ["", "## Training", "",
            "Steps and hours of the training processes on the 2-core CPU "
            "(batch 8 of 128x128 crops), measured from the TensorBoard "
            "event files of each stage (pauses between sessions not "
            "counted):", ""]
  home = os.path.expanduser("~")
  lines += [f"- `{d.replace(home, '~')}`: {steps:,} steps, "
            f"{seconds / 3600:.1f} h"
            for d, (steps, seconds) in zip(log_dirs, stages)]
  lines += [""]
  if history:
    lines += [history, ""]
  if training["command"]:
    lines += ["The last stage's command, as training.json recorded it:",
              "", "```", " ".join(training["command"]), "```", ""]
  if "recipe" in training:
    lines += ["Its recipe: " + ", ".join(
        f"{key} {value}" for key, value in training["recipe"].items())
              + ".", ""]
  lines += figures_section(summary, name)
  selective = summary.get("selective", {}).get(evaluated_as)
  if selective:
    lines += [""] + selective_section(selective, model_config, name,
                                      evaluated_as)
  if sc_rates is not None:
    lines += [""] + sc_rates_section(sc_rates)
  lines += ["", "## Serving", "",
            "Only the main SavedModel (needs tensorflow-compression) is "
            "bundled. For stock TensorFlow Serving, write the `serving/1/` "
            "copy (core ops only) with "
            f"`python -m tfgc.export {name} OUT_DIR`.", ""]
  text = "\n".join(lines)
  with open(os.path.join(model_dir, zoo.CARD), "w") as f:
    f.write(text)
  return text


def main(argv):
  parser = argparse.ArgumentParser(prog="scripts/modelcard.py",
                                   description=__doc__.split("\n")[0])
  parser.add_argument("--model", required=True, help="export directory")
  parser.add_argument("--summary", required=True,
                      help="summary.json of `tfgc evaluate` "
                           "run on this export alone")
  parser.add_argument("--data_manifest", required=True,
                      help="manifest.json of gather_training_photos.py")
  parser.add_argument("--logs", required=True,
                      help="comma-separated TensorBoard log folders of "
                           "the run's stages")
  parser.add_argument("--history", default="",
                      help="what no file records, in words")
  parser.add_argument("--sc_rates", default=None,
                      help="SC models: output of benchmarks/sc_rates.py "
                           "for this export")
  args = parser.parse_args(argv)
  try:
    text = write(args.model, _load_json(args.summary),
                 _load_json(args.data_manifest), args.logs.split(","),
                 args.history,
                 _load_json(args.sc_rates) if args.sc_rates else None)
  except TfgcError as e:
    print(f"modelcard.py: {e}", file=sys.stderr)
    return 1
  print(text)
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
