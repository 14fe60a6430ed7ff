import collections
import contextlib
import csv
import html
import html.parser
import io
import json
import os
import re
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image

from tfgc import evaluate, report
from tfgc.images import save_png

GRID = "0.5,1,2"
# A progress line: step, steps expected, what; an ETA from the second on.
STEP = re.compile(r"\[(\d+)/(\d+)\] (.+?)(, ETA (\d+h)?(\d+m)?\d+s)?$")
Evaluation = collections.namedtuple("Evaluation",
                                    "status out stdout stderr")


class _Links(html.parser.HTMLParser):
  def __init__(self):
    super().__init__()
    self.links = []

  def handle_starttag(self, tag, attrs):
    self.links += [value for name, value in attrs if name in ("src", "href")]


@pytest.fixture(scope="module")
def evaluation(tiny_export, photo, tmp_path_factory):
  """Runs `python -m tfgc.evaluate` once on two small images."""
  images = tmp_path_factory.mktemp("images")
  save_png(str(images / "face.png"), photo[80:144, 170:250])
  save_png(str(images / "rocket.png"), photo[300:348, 20:68])
  (images / "broken.png").write_bytes(b"not a png")  # Skipped.
  save_png(str(images / "tiny.png"), photo[:20, :40])  # Skipped: LPIPS.
  out = tmp_path_factory.mktemp("evaluation")
  stdout, stderr = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
    status = evaluate.main([f"--images={images}", f"--models={tiny_export}",
                            "--codecs=jpeg,webp", f"--bpps={GRID}",
                            "--lpips=alexnet", f"--out={out}"])
  return Evaluation(status, out, stdout.getvalue(), stderr.getvalue())


def test_summary_plots_and_report_carry_the_results_numbers(evaluation):
  out = evaluation.out
  assert evaluation.status == 0
  with open(out / "results.csv") as f:
    rows = list(csv.DictReader(f))
  with open(out / "summary.json") as f:
    summary = json.load(f)
  model, = summary["operating_points"]
  metrics = ["psnr", "ms_ssim", "dists", "lpips_alexnet"]
  assert summary["metrics"] == metrics

  def mean(method, role, key):
    return np.mean([float(r[key]) for r in rows
                    if r["method"] == method and r["role"] == role])
  for key in ["bpp"] + metrics:
    assert summary["operating_points"][model][key] == pytest.approx(
        mean(model, "operating point", key))
    for codec in ("jpeg", "webp"):
      assert summary["matched"][model][codec][key] == pytest.approx(
          mean(codec, f"matched:{model}", key))

  report = (out / "report.html").read_text()
  for name in (f"tfgc {model}", summary["models"][model]["model_id"],
               "jpeg", "webp"):
    assert name in report
  op = summary["operating_points"][model]
  assert f"<td>{op['bpp']:.4f}</td><td>{op['psnr']:.3f}</td>" in report

  for metric in metrics:
    with Image.open(out / f"rd_{metric}.png") as plot:
      width, height = plot.size
      assert width >= 400 and height >= 300
      assert len(plot.convert("RGB").getcolors(width * height)) > 10
    svg = ElementTree.parse(out / f"rd_{metric}.svg").getroot()
    assert svg.tag.endswith("svg")


def test_csv_has_a_row_per_image_method_and_target(evaluation):
  out = evaluation.out
  with open(out / "results.csv") as f:
    rows = list(csv.DictReader(f))
  # Per image: the model, and each codec at 3 grid + matched + double rates.
  assert len(rows) == 2 * (1 + 2 * (3 + 2))
  for row in rows:
    assert float(row["bpp"]) == pytest.approx(
        8 * int(row["file_bytes"]) / (int(row["width"]) * int(row["height"])))
    if row["kind"] == "codec" and row["reached"] == "True":
      assert float(row["bpp"]) <= float(row["target_bpp"])
  model = [r for r in rows if r["kind"] == "model"]
  assert {r["role"] for r in model} == {"operating point"}
  matched = [r for r in rows if r["role"].startswith("matched:")]
  for row in matched:
    own = next(r for r in model if r["image"] == row["image"])
    assert float(row["target_bpp"]) == pytest.approx(float(own["bpp"]))


def test_summary_compares_codecs_at_the_model_rate(evaluation):
  out = evaluation.out
  with open(out / "summary.json") as f:
    summary = json.load(f)
  model, = summary["operating_points"]
  assert summary["images"] == 2
  assert set(summary["matched"][model]) == {"jpeg", "webp"}
  for codec, entry in summary["matched"][model].items():
    assert entry["images"] == 2
    assert entry["encode_seconds"] > 0 and entry["decode_seconds"] > 0
  op = summary["operating_points"][model]
  assert op["container_bytes"] > 0 and op["decode_seconds"] > 0
  for codec, by_metric in summary["bd_rate"][model].items():
    assert set(by_metric) == {"psnr", "ms_ssim", "dists", "lpips_alexnet"}
    for entry in by_metric.values():
      assert (entry["percent"] is None) == (entry["images"] == 0)
      assert (entry["images"] + entry["below_codec_range"]
              + entry["above_codec_range"]) <= 2


def test_report_links_only_files_that_exist(evaluation):
  out = evaluation.out
  parser = _Links()
  with open(out / "report.html") as f:
    parser.feed(f.read())
  assert len(parser.links) >= 3 + 2 * 4  # Plots, and 4 crops per image.
  for link in parser.links:
    assert "://" not in link and not os.path.isabs(link), link
    assert os.path.isfile(out / link), link


def test_progress_is_a_line_per_model_and_codec_step_with_an_eta(
    evaluation):
  """On stderr, from before the model loads: a line as each step starts,
  numbered against the steps expected (a skipped image's dropped), with an
  ETA from the second step on; then the time they took."""
  lines = evaluation.stderr.splitlines()
  with open(evaluation.out / "summary.json") as f:
    model, = json.load(f)["operating_points"]
  assert lines[0] == f"loading tfgc {model}"
  steps = [STEP.match(line) for line in lines if line.startswith("[")]
  assert all(steps)
  assert [int(m[1]) for m in steps] == list(range(1, 7))
  totals = [int(m[2]) for m in steps]
  assert totals == sorted(totals, reverse=True) and totals[-1] >= 6
  assert [m[3] for m in steps] == [
      line for image in ("face.png", "rocket.png")
      for line in (f"tfgc {model} on {image}",
                   f"jpeg on {image} (5 target rates)",
                   f"webp on {image} (5 target rates)")]
  assert [m[4] is not None for m in steps] == [False] + [True] * 5
  assert re.match(r"6 steps in \S+; writing results.csv", lines[-1])
  assert not any(STEP.match(line) for line in evaluation.stdout.splitlines())


def test_the_answer_is_printed_as_a_table_and_bd_rates_in_words(
    evaluation):
  """stdout: the model's means and the codecs' at its rate as in
  summary.json, a BD-rate line per codec and metric in words (the same
  words as the report's cells), then where the files are."""
  with open(evaluation.out / "summary.json") as f:
    summary = json.load(f)
  model, = summary["operating_points"]
  lines = evaluation.stdout.splitlines()
  metrics = summary["metrics"]
  for method, entry, reached in [
      (f"tfgc {model}", summary["operating_points"][model], "its own rate")
  ] + [(codec, entry, f"{entry['reached']} of 2")
       for codec, entry in summary["matched"][model].items()]:
    row, = [re.split(r"\s{2,}", line) for line in lines
            if re.split(r"\s{2,}", line)[0] == method]
    assert row[1:] == [reached, f"{entry['bpp']:.4f}"] + [
        f"{entry[m]:.3f}" for m in metrics]
  page = (evaluation.out / "report.html").read_text()
  bd_lines = [line for line in lines if line.startswith("BD-rate vs ")]
  assert len(bd_lines) == 2 * len(metrics)
  for codec, by_metric in summary["bd_rate"][model].items():
    for metric, entry in by_metric.items():
      words = report.bd_rate_words(entry, 2, model, codec, metric)
      assert f"BD-rate vs {codec} ({report.SHORT[metric]}): {words}" in (
          bd_lines)
      assert html.escape(words) in page
  assert lines[-1] == f"results, plots and report.html in {evaluation.out}/"


def test_quiet_runs_show_no_progress(tmp_path, tiny_export, small_photo,
                                     capsys):
  (tmp_path / "images").mkdir()
  save_png(str(tmp_path / "images" / "face.png"), small_photo)
  assert evaluate.main([f"--images={tmp_path / 'images'}",
                        f"--models={tiny_export}", "--codecs=jpeg",
                        "--bpps=1", "--lpips=alexnet", "--no-dists",
                        "--quiet", f"--out={tmp_path / 'out'}"]) == 0
  assert capsys.readouterr().err == ""


@pytest.mark.parametrize("flags,message", [
    (["--codecs=bpg"], "unknown codec 'bpg'"),
    (["--lpips=squeeze"], "unknown LPIPS network"),
    (["--bpps=low"], "not a list of numbers"),
    (["--models=/nonexistent"], "no model"),
])
def test_bad_flags_fail_with_one_line(flags, message, tmp_path, tiny_export,
                                      capsys):
  args = [f"--images={tmp_path}", f"--models={tiny_export}",
          f"--out={tmp_path / 'out'}"] + flags
  assert evaluate.main(args) == 1
  err = capsys.readouterr().err
  assert message in err and err.count("\n") == 1


def test_an_empty_image_folder_is_refused(tmp_path, tiny_export, capsys):
  assert evaluate.main([f"--images={tmp_path}", f"--models={tiny_export}",
                        "--codecs=jpeg", f"--out={tmp_path / 'out'}"]) == 1
  assert "no images" in capsys.readouterr().err


def test_a_score_cache_spares_rescoring_the_same_codec_files(
    tmp_path, tiny_export, small_photo, monkeypatch):
  (tmp_path / "images").mkdir()
  save_png(str(tmp_path / "images" / "face.png"), small_photo)
  args = [f"--images={tmp_path / 'images'}", f"--models={tiny_export}", "--codecs=jpeg",
          "--bpps=1,2", "--lpips=alexnet",
          f"--score_cache={tmp_path / 'scores.json'}"]
  assert evaluate.main(args + [f"--out={tmp_path / 'first'}"]) == 0
  calls = []
  real_score = evaluate.score
  monkeypatch.setattr(evaluate, "score",
                      lambda *a: calls.append(1) or real_score(*a))
  assert evaluate.main(args + [f"--out={tmp_path / 'second'}"]) == 0
  assert len(calls) == 1  # The model's decoding only.
  with open(tmp_path / "first" / "results.csv") as f:
    first = f.read()
  with open(tmp_path / "second" / "results.csv") as f:
    second = f.read()
  def scores(text):
    return [line.split(",")[-3:] for line in text.splitlines()]
  assert scores(first) == scores(second)


def test_sc_models_are_also_measured_with_classes_synthesised(
    tmp_path, photo, capsys):
  """--synthesize: a second point per image on the model's own label map,
  the preserved and synthesised pixels scored apart, the bits saved."""
  import tensorflow as tf
  from tfgc import export
  from tfgc.config import preset
  from tfgc.model import GenerativeCompressionModel
  tf.keras.utils.set_random_seed(3)
  sc = preset("tiny").replace(mode="sc", num_classes=3, labeller="standin")
  export.export(GenerativeCompressionModel(sc), str(tmp_path / "sc"))
  (tmp_path / "images").mkdir()
  save_png(str(tmp_path / "images" / "face.png"), photo[60:188, 150:278])
  out = tmp_path / "out"
  assert evaluate.main([f"--images={tmp_path / 'images'}",
                        f"--models={tmp_path / 'sc'}", "--codecs=jpeg",
                        "--bpps=0.5", "--lpips=alexnet", "--no-dists",
                        "--synthesize=region 0", f"--out={out}"]) == 0
  with open(out / "summary.json") as f:
    summary = json.load(f)
  assert summary["metrics"] == ["psnr", "ms_ssim", "lpips_alexnet"]
  entry = summary["selective"]["sc"]
  assert entry["images"] == ["face.png"] and entry["classes"] == "region 0"
  synthesised = entry["synthesised"]
  assert 0 < synthesised["synthesised_fraction"] < 1
  assert synthesised["bpp"] < entry["all_preserved"]["bpp"]
  assert entry["bpp_saved_percent"] > 0
  for name in ("psnr_preserved", "psnr_preserved_all", "psnr_synthesised",
               "lpips_alexnet"):
    assert synthesised[name] > 0
  assert summary["matched"]["sc synthesised"]["jpeg"]["images"] == 1
  assert "region 0 synthesised" in (out / "report.html").read_text()
  with open(out / "results.csv") as f:
    roles = {row["role"] for row in csv.DictReader(f)}
  assert {"operating point", "synthesised:region 0"} <= roles
  # An SC model that cannot label photos itself cannot be evaluated.
  export.export(GenerativeCompressionModel(sc.replace(labeller="")),
                str(tmp_path / "own_maps"))
  capsys.readouterr()
  assert evaluate.main([f"--images={tmp_path / 'images'}",
                        f"--models={tmp_path / 'own_maps'}", "--codecs=jpeg",
                        f"--out={tmp_path / 'out2'}"]) == 1
  assert "without a labeller" in capsys.readouterr().err
