"""Plots, the HTML report and the printed summary of `tfgc.evaluate`.

The report is one HTML file with inline CSS that links only files written
beside it (plots, crops), so the folder opens offline and can be copied
as a whole. `text_summary` is the answer printed at the end: the means at
each model's rate and its BD-rates in words.
"""

import datetime
import html
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LABELS = {"psnr": "PSNR (dB), higher is better",
          "ms_ssim": "MS-SSIM, higher is better",
          "dists": "DISTS, lower is better",
          "lpips_alexnet": "LPIPS AlexNet, lower is better",
          "lpips_vgg16": "LPIPS VGG16, lower is better"}
TICKS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
SHORT = {"psnr": "PSNR", "ms_ssim": "MS-SSIM", "dists": "DISTS",
         "lpips_alexnet": "LPIPS-Alex",
         "lpips_vgg16": "LPIPS-VGG"}


def codec_curve(points, codec, metric, images):
  """Mean (bpp, metric) over images at each grid target the codec reached
  on every image; sorted by rate. Targets it missed on any image are left
  out rather than mixed with the codec's smallest files."""
  curve = []
  for target in sorted({p.target_bpp for p in points
                        if p.method == codec and p.role == "grid"}):
    at = [p for p in points if p.method == codec and p.role == "grid"
          and p.target_bpp == target]
    if len(at) == images and all(p.reached for p in at):
      curve.append((np.mean([p.bpp for p in at]),
                    np.mean([p.scores[metric] for p in at])))
  return sorted(set(curve))


def write_plots(out, points, summary):
  """rd_<metric>.png and .svg for every metric of the summary; returns
  [(metric, png file name)]."""
  images = summary["images"]
  written = []
  for metric in summary["metrics"]:
    figure, axes = plt.subplots(figsize=(6.4, 4.4))
    for codec, floor in summary["codec_floor"].items():
      curve = codec_curve(points, codec, metric, images)
      line, = axes.plot(*zip(*curve) if curve else ([], []), marker="o",
                        markersize=3, label=codec)
      axes.plot(floor["bpp"], floor[metric], marker="o",
                markersize=7, fillstyle="none", color=line.get_color())
    for model in summary["operating_points"]:
      own = [p for p in points if p.method == model]
      axes.plot(np.mean([p.bpp for p in own]),
                np.mean([p.scores[metric] for p in own]), marker="*",
                markersize=14, linestyle="none", label=f"tfgc {model}")
    axes.set_xscale("log")
    axes.set_xticks(TICKS, [f"{t:g}" for t in TICKS])
    axes.set_xlabel("bits per pixel (real files, log scale)")
    axes.set_ylabel(LABELS[metric])
    axes.set_title(f"{LABELS[metric].split(',')[0]}, mean of {images} "
                   "images (hollow: a codec's smallest files)", fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    for suffix in ("png", "svg"):
      figure.savefig(os.path.join(out, f"rd_{metric}.{suffix}"), dpi=120)
    plt.close(figure)
    written.append((metric, f"rd_{metric}.png"))
  return written


def _number(value, digits=3):
  if value is None:
    return "–"
  return f"{value:.{digits}f}"


def _table(headers, rows):
  head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
  body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
                 for row in rows)
  return f"<table><tr>{head}</tr>{body}</table>"


def _summary_rows(entry, metrics):
  return [_number(entry["bpp"], 4)] + [_number(entry[m]) for m in metrics]


COMPARISON_HEADERS = ("method", "target reached", "bpp")


def _comparison_rows(summary, method, key, metrics):
  """Rows of text: `method`'s operating point, then each codec at its `key`
  rate ("matched" or "double")."""
  rows = [[f"tfgc {method}", "its own rate"]
          + _summary_rows(summary["operating_points"][method], metrics)]
  for codec, entry in summary[key][method].items():
    if entry is not None:
      rows.append([codec, f"{entry['reached']} of {entry['images']}"]
                  + _summary_rows(entry, metrics))
  return rows


def _comparison(summary, model, key, metrics):
  """An HTML table of `_comparison_rows`, the model's row in bold."""
  rows = [[html.escape(cell) for cell in row]
          for row in _comparison_rows(summary, model, key, metrics)]
  rows[0][0] = f"<b>{rows[0][0]}</b>"
  return _table(list(COMPARISON_HEADERS) + [SHORT[m] for m in metrics],
                rows)


def _selective_section(summary, model, entry, metrics):
  """An SC model with classes synthesised against itself all preserved,
  then the codecs at the synthesised files' rate."""
  preserved, synthesised = entry["all_preserved"], entry["synthesised"]
  rows = [["bpp", _number(preserved["bpp"], 4),
           _number(synthesised["bpp"], 4)],
          ["PSNR of the preserved pixels",
           _number(synthesised["psnr_preserved_all"]),
           _number(synthesised["psnr_preserved"])],
          ["PSNR of the synthesised pixels", "",
           _number(synthesised["psnr_synthesised"])]]
  rows += [[f"{SHORT[m]} (whole image)", _number(preserved[m]),
            _number(synthesised[m])] for m in metrics]
  return [f"<h2>tfgc {html.escape(model)}, classes "
          f"{html.escape(entry['classes'])} synthesised</h2>",
          f"<p>On the {len(entry['images'])} images with something to "
          "preserve and something to synthesise ("
          f"{html.escape(', '.join(entry['images']))}): "
          f"{100 * synthesised['synthesised_fraction']:.0f} % of their "
          f"pixels synthesised, {entry['bpp_saved_percent']:.0f} % of the "
          "bits saved.</p>",
          _table(["", "all preserved", "synthesised"], rows),
          "<h3>Codecs at the synthesised files' rate</h3>",
          _comparison(summary, entry["method"], "matched", metrics)]


def _images(count):
  return f"{count} image{'' if count == 1 else 's'}"


def bd_rate_words(entry, images, model, codec, metric):
  """A summary.json BD-rate entry of `model` against `codec` on `metric`
  (over `images` images) in words, e.g. "+35.2% on 5 of 7 images (tfgc
  gc needs 35% more bits for the same PSNR); left out: 2 images where
  tfgc gc is worse than x265's smallest file"."""
  who = f"tfgc {model}"
  where = ([f"{_images(entry['below_codec_range'])} where {who} is worse "
            f"than {codec}'s smallest file"]
           if entry["below_codec_range"] else [])
  where += ([f"{_images(entry['above_codec_range'])} where {who} is "
             f"better than {codec}'s largest file"]
            if entry["above_codec_range"] else [])
  percent = entry["percent"]
  if percent is None:
    return "unknown: " + (", ".join(where) or "no image to compare on")
  amount = (f"{abs(percent):.0f}% {'more' if percent > 0 else 'fewer'}"
            if round(abs(percent)) else "about as many")
  text = (f"{percent:+.1f}% on {entry['images']} of {_images(images)} "
          f"({who} needs {amount} bits for the same {SHORT[metric]})")
  return text + ("; left out: " + ", ".join(where) if where else "")


def _figure(path, caption):
  alt = html.escape(os.path.splitext(os.path.basename(path))[0])
  return (f'<figure><img src="{html.escape(path)}" alt="{alt}">'
          f"<figcaption>{caption}</figcaption></figure>")


def _caption(label, point):
  scores = point.scores
  text = (f"{html.escape(label)}<br>{point.bpp:.4f} bpp, "
          f"PSNR {scores['psnr']:.2f}")
  if "lpips_alexnet" in scores:
    text += f", LPIPS-Alex {scores['lpips_alexnet']:.3f}"
  if not point.reached:
    text += "<br><i>cannot go this low: its smallest file</i>"
  return text


STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1400px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }
th { background: #eee; }
figure { display: inline-block; margin: 4px; vertical-align: top; }
figcaption { font-size: 12px; max-width: 260px; }
img.plot { max-width: 640px; }
"""


def write_html(out, summary, plots, crops):
  """Writes out/report.html from the summary, plots and crop listings."""
  metrics = summary["metrics"]
  parts = [f"<h1>tfgc evaluation: {summary['images']} images</h1>",
           f"<p>Made {datetime.datetime.now():%Y-%m-%d %H:%M} by "
           "<code>tfgc evaluate</code>. Rates are those of the "
           "real files, headers and containers included. A codec that "
           "cannot go as low as the target is shown at its smallest file "
           "and counted as not reached; nothing is extrapolated.</p>"]
  for model, info in summary["models"].items():
    parts.append(f"<h2>tfgc {html.escape(model)} "
                 f"(<code>{html.escape(info['model_id'])}</code>)</h2>")
    parts.append("<h3>Codecs at the model's rate (per image, the largest "
                 "file not above it)</h3>")
    parts.append(_comparison(summary, model, "matched", metrics))
    parts.append("<h3>Codecs at twice the model's rate</h3>")
    parts.append(_comparison(summary, model, "double", metrics))
    parts.append("<h3>BD-rate of the model against each codec (negative: "
                 "the model needs fewer bits for the same quality)</h3>")
    bd_metrics = list(next(iter(summary["bd_rate"][model].values()), {}))
    rows = [[html.escape(codec)] + [
        html.escape(bd_rate_words(entry[m], summary["images"], model, codec,
                                  m)) for m in bd_metrics]
            for codec, entry in summary["bd_rate"][model].items()]
    parts.append(_table(["codec"] + [SHORT[m] for m in bd_metrics], rows))
    parts.append("<p>Images outside a codec's measured range (the model "
                 "worse than its smallest file or better than its largest) "
                 "have no BD-rate; nothing is extrapolated.</p>")
  for model, entry in summary.get("selective", {}).items():
    parts += _selective_section(summary, model, entry, metrics)
  parts.append("<h2>Encode and decode times (this run, this machine)</h2>")
  rows = []
  for model, entry in summary["operating_points"].items():
    rows.append([f"tfgc {html.escape(model)}",
                 _number(entry["encode_seconds"]),
                 _number(entry["decode_seconds"]),
                 _number(entry["container_bytes"], 0)])
  first = next(iter(summary["matched"].values()), {})
  for codec, entry in first.items():
    if entry is not None:
      rows.append([html.escape(codec), _number(entry["encode_seconds"]),
                   _number(entry["decode_seconds"]),
                   _number(entry["container_bytes"], 0)])
  parts.append(_table(["method", "encode s/image", "decode s/image",
                       "container bytes/file"], rows))
  parts.append("<p>Codecs timed at the first model's matched rate; each "
               "encode is one call at the setting the search chose.</p>")
  parts.append("<h2>Rate–distortion</h2>")
  parts += [f'<img class="plot" src="{html.escape(png)}" '
            f'alt="{html.escape(metric)}">' for metric, png in plots]
  parts.append("<h2>Side by side (centre crops, 1:1 pixels)</h2>")
  for listing in crops:
    parts.append(f"<h3>{html.escape(listing['image'])}</h3>")
    for model in listing["models"]:
      figures = [_figure(listing["original"], "original"),
                 _figure(model["file"], _caption(f"tfgc {model['method']}",
                                                 model["point"]))]
      figures += [_figure(m["file"], _caption(m["method"], m["point"]))
                  for m in model["matched"]]
      parts.append("<div>" + "".join(figures) + "</div>")
  page = ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
          f"<title>tfgc evaluation</title><style>{STYLE}</style></head>"
          f"<body>{''.join(parts)}</body></html>")
  with open(os.path.join(out, "report.html"), "w") as f:
    f.write(page)


def _text_table(headers, rows):
  """Lines of a plain-text table: the first column left-aligned, the
  others right-aligned."""
  rows = [list(headers)] + rows
  widths = [max(len(row[i]) for row in rows) for i in range(len(headers))]
  return ["  ".join([row[0].ljust(widths[0])]
                    + [cell.rjust(width)
                       for cell, width in zip(row[1:], widths[1:])])
          for row in rows]


def text_summary(summary):
  """The evaluation's answer as plain text: for each model point, the
  means of it and of the codecs at its rate, then its BD-rates against
  each codec in words (`bd_rate_words`)."""
  metrics = summary["metrics"]
  headers = list(COMPARISON_HEADERS) + [SHORT[m] for m in metrics]
  lines = []
  for method, point in summary["operating_points"].items():
    lines += ["", f"tfgc {method} and the codecs at its rate, mean of "
              f"{_images(point['images'])}:"]
    lines += _text_table(headers, _comparison_rows(summary, method,
                                                   "matched", metrics))
    for codec, by_metric in summary["bd_rate"].get(method, {}).items():
      lines += [f"BD-rate vs {codec} ({SHORT[metric]}): "
                + bd_rate_words(entry, summary["images"], method, codec,
                                metric)
                for metric, entry in by_metric.items()]
  return "\n".join(lines[1:])
