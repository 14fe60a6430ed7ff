"""tfgc.abtest: blind sheets with a key kept apart, and the raters' scores."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from tfgc import abtest, codec
from tfgc.images import save_png


@pytest.fixture(scope="module")
def sheets(tiny_export, photo, tmp_path_factory):
  images = tmp_path_factory.mktemp("photos")
  save_png(str(images / "face.png"), photo[60:124, 150:246])
  save_png(str(images / "rocket.png"), photo[300:364, 20:116])
  out = tmp_path_factory.mktemp("sheets")
  key_path = tmp_path_factory.mktemp("key") / "key.json"
  assert abtest.main(["sheets", f"--images={images}",
                      f"--model={tiny_export}", "--against=jpeg:1,jpeg:2",
                      f"--out={out}", f"--key={key_path}", "--seed=3"]) == 0
  with open(key_path) as f:
    key = json.load(f)
  assert key["model"] == os.path.basename(tiny_export)
  return images, out, key_path, key, str(tiny_export)


def test_one_sheet_per_photo_and_opponent_holding_only_pictures(sheets):
  _, out, _, key, _ = sheets
  assert sorted(os.listdir(out)) == ["1.png", "2.png", "3.png", "4.png"]
  assert sorted(key["sheets"]) == ["1", "2", "3", "4"]
  comparisons = sorted(e["comparison"] for e in key["sheets"].values())
  model = key["model"]
  assert comparisons == [f"{model} vs jpeg <= 1x"] * 2 + [
      f"{model} vs jpeg <= 2x"] * 2


def test_a_sheet_is_the_original_over_the_two_decodes_in_keyed_order(
    sheets, tiny_export):
  images, out, _, key, _ = sheets
  number, entry = next((n, e) for n, e in key["sheets"].items()
                       if e["image"] == "face.png")
  picture = np.asarray(Image.open(out / f"{number}.png"))
  band = abtest.LABEL_HEIGHT
  original = np.asarray(Image.open(images / "face.png"))
  assert picture.shape == (3 * (64 + band), 96, 3)
  np.testing.assert_array_equal(picture[band:band + 64], original)
  model = codec.load(str(tiny_export))
  decoded = model.decompress(model.compress(original))
  side = "A" if entry["A"] == key["model"] else "B"
  top = (1 if side == "A" else 2) * (64 + band) + band
  np.testing.assert_array_equal(picture[top:top + 64], decoded)
  assert {entry["A"], entry["B"]} == {key["model"],
                                      entry["comparison"].split(" vs ")[1]}


def test_the_opponent_file_is_at_most_the_factor_of_the_model_bytes(sheets):
  for entry in sheets[3]["sheets"].values():
    opponent = entry["comparison"].split(" vs ")[1]
    factor = float(opponent.split("<= ")[1].rstrip("x"))
    if entry["opponent_reached_size"]:
      assert entry["bytes"][opponent] <= factor * entry["bytes"][
          sheets[3]["model"]]


def test_the_order_of_sides_is_seeded_and_not_fixed(sheets, tmp_path):
  images, _, _, key, model = sheets
  def first_sheets(seed):
    return abtest.make_sheets(str(images), model, ["jpeg:1", "jpeg:2"],
                              str(tmp_path / f"s{seed}"),
                              str(tmp_path / f"k{seed}.json"), seed=seed,
                              log=lambda _: None)["sheets"]
  assert first_sheets(3) == key["sheets"]
  model_first = {first_sheets(seed)["1"]["A"] == key["model"]
                 for seed in range(6)}
  assert model_first == {True, False}


def test_scores_count_votes_and_majorities_per_comparison(sheets, tmp_path,
                                                          capsys):
  _, _, key_path, key, _ = sheets
  model = key["model"]
  model_side = {n: ("A" if e["A"] == model else "B")
                for n, e in key["sheets"].items()}
  other = {"A": "B", "B": "A"}
  raters = [dict(model_side), dict(model_side),
            {n: other[s] for n, s in model_side.items()}]
  paths = []
  for i, answers in enumerate(raters):
    paths.append(tmp_path / f"rater{i}.json")
    paths[-1].write_text(json.dumps(answers))
  assert abtest.main(["score", f"--key={key_path}", *map(str, paths)]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert any(line.startswith(
      f"{model} vs jpeg <= 1x: {model} preferred in 4 of 6 votes, majority "
      "on 2 of 2 photos") for line in lines)
  result = abtest.score(key, [raters[2]])
  assert all(t["votes"] == 0 and t["photos"] == 0 for t in result.values())


def test_a_key_inside_the_sheets_folder_and_bad_answers_are_refused(
    sheets, tmp_path, capsys):
  images, _, key_path, _, model = sheets
  assert abtest.main(["sheets", f"--images={images}", f"--model={model}",
                      f"--out={tmp_path}", f"--key={tmp_path}/key.json"]) == 1
  assert "inside the sheets folder" in capsys.readouterr().err
  assert abtest.main(["sheets", f"--images={images}", f"--model={model}",
                      "--against=jpeg:0",
                      f"--out={tmp_path}/s", f"--key={tmp_path}/k.json"]) == 1
  assert "positive number" in capsys.readouterr().err
  bad = tmp_path / "bad.json"
  bad.write_text(json.dumps({"1": "C"}))
  assert abtest.main(["score", f"--key={key_path}", str(bad)]) == 1
  assert "is not A or B" in capsys.readouterr().err


def test_a_model_opponent_is_coded_at_its_own_rate(sheets, tmp_path):
  import shutil
  images, _, _, _, model = sheets
  copy = shutil.copytree(model, tmp_path / "copy")
  key = abtest.make_sheets(str(images), model, [str(copy)],
                           str(tmp_path / "s"), str(tmp_path / "k.json"),
                           log=lambda _: None)
  name = key["model"]
  for number, entry in key["sheets"].items():
    assert entry["comparison"] == f"{name} vs copy"
    assert entry["opponent_reached_size"]
    assert entry["bytes"][name] == entry["bytes"]["copy"]
    # The same weights on both sides: A and B are the same decode.
    picture = np.asarray(Image.open(tmp_path / "s" / f"{number}.png"))
    third, band = picture.shape[0] // 3, abtest.LABEL_HEIGHT
    np.testing.assert_array_equal(picture[third + band:2 * third],
                                  picture[2 * third + band:])


def test_a_dial_model_is_shown_at_each_realism_asked_for(sheets, tmp_path):
  from tfgc import export
  from tfgc.config import preset
  from tfgc.model import GenerativeCompressionModel
  import tensorflow as tf
  images, _, _, _, plain = sheets
  tf.keras.utils.set_random_seed(6)
  model = GenerativeCompressionModel(preset("tiny").replace(realism_dial=True))
  for variable in model.realism_modulation.trainable_variables:
    variable.assign(tf.random.normal(variable.shape, stddev=0.5))
  dial = str(tmp_path / "dial")
  export.export(model, dial)
  key = abtest.make_sheets(str(images), dial, ["jpeg:1"], str(tmp_path / "s"),
                           str(tmp_path / "k.json"), log=lambda _: None,
                           realisms=(0.0, 1.0))
  assert sorted(e["comparison"] for e in key["sheets"].values()) == [
      "dial at r=0 vs jpeg <= 1x"] * 2 + ["dial at r=1 vs jpeg <= 1x"] * 2
  # Both r decode the one file: the same bytes on every sheet of a photo.
  sizes = {(e["image"], e["bytes"][e["model"]]) for e in key["sheets"].values()}
  assert len(sizes) == 2
  votes = {n: ("A" if e["A"] == e["model"] else "B")
           for n, e in key["sheets"].items() if "r=1" in e["model"]}
  result = abtest.score(key, [votes])
  assert result["dial at r=1 vs jpeg <= 1x"]["votes"] == 2
  assert result["dial at r=0 vs jpeg <= 1x"]["of_votes"] == 0
  # The same file at another r as the opponent, never r against itself.
  key = abtest.make_sheets(str(images), dial, ["r=0.0"], str(tmp_path / "u"),
                           str(tmp_path / "u.json"), log=lambda _: None,
                           realisms=(0.0, 1.0))
  entries = list(key["sheets"].values())
  assert [e["comparison"] for e in entries] == ["dial at r=1 vs dial at r=0"] * 2
  assert all(e["bytes"]["dial at r=1"] == e["bytes"]["dial at r=0"]
             for e in entries)
  for number in key["sheets"]:  # Each side decoded at its own r.
    pixels = np.asarray(Image.open(tmp_path / "u" / f"{number}.png"), int)
    third, label = pixels.shape[0] // 3, abtest.LABEL_HEIGHT
    assert np.abs(pixels[third + label:2 * third]
                  - pixels[2 * third + label:]).max() > 0
  for against, realisms in ((["jpeg:1"], (0.5,)), (["r=0"], (None,))):
    with pytest.raises(abtest.TfgcError, match="no realism dial"):
      abtest.make_sheets(str(images), plain, against, str(tmp_path / "t"),
                         str(tmp_path / "t.json"), realisms=realisms)
  with pytest.raises(abtest.TfgcError, match="r must be a number"):
    abtest.parse_opponent("r=2")
  # Requests that would give no sheet, or two sides of one name.
  for model, against, realisms, message in (
      (dial, ["r=1"], (None,), "the r shown"),
      (dial, ["r=0", "r=0.0"], (1.0,), "both be named 'dial at r=0'"),
      (plain, [plain], (None,), "both be named")):
    with pytest.raises(abtest.TfgcError, match=message):
      abtest.make_sheets(str(images), model, against, str(tmp_path / "v"),
                         str(tmp_path / "v.json"), realisms=realisms)


def test_an_sc_model_is_shown_painting_against_itself_keeping_all(
    sheets, tmp_path):
  from tfgc import export
  from tfgc.config import preset
  from tfgc.model import GenerativeCompressionModel
  import tensorflow as tf
  images, _, _, _, plain = sheets
  tf.keras.utils.set_random_seed(7)
  sc = str(tmp_path / "sc")
  export.export(GenerativeCompressionModel(preset("tiny").replace(
      mode="sc", labeller="standin", num_classes=3)), sc)
  key = abtest.make_sheets(str(images), sc, [sc], str(tmp_path / "s"),
                           str(tmp_path / "k.json"), log=lambda _: None,
                           synthesize=["0"])
  assert key["synthesize"] == ["0"]
  entries = list(key["sheets"].values())
  assert sorted(e["image"] for e in entries) == ["face.png", "rocket.png"]
  for entry in entries:
    assert entry["comparison"] == "sc painting 0 vs sc"
    # Painting region 0 sends fewer latents than keeping everything.
    assert entry["bytes"]["sc painting 0"] < entry["bytes"]["sc"]
  # Every region painted keeps nothing: no sheet for any photo.
  logged = []
  with pytest.raises(abtest.TfgcError, match="no photo in .* has both"):
    abtest.make_sheets(str(images), sc, [sc], str(tmp_path / "u"),
                       str(tmp_path / "u.json"), log=logged.append,
                       synthesize=["0", "1", "2"])
  assert sorted(logged) == [f"{name}: no sheet (the standin map leaves "
                            "nothing to keep or nothing to paint)"
                            for name in ("face.png", "rocket.png")]
  # Another SC model painting the same classes: here the same weights, so
  # the same files.
  import shutil
  copy = shutil.copytree(sc, tmp_path / "copy")
  key = abtest.make_sheets(str(images), sc, [f"{copy}@painted"],
                           str(tmp_path / "p"), str(tmp_path / "p.json"),
                           log=lambda _: None, synthesize=["0"])
  for entry in key["sheets"].values():
    assert entry["comparison"] == "sc painting 0 vs copy painting 0"
    assert entry["bytes"]["sc painting 0"] == entry["bytes"]["copy painting 0"]
  with pytest.raises(abtest.TfgcError, match="give them"):
    abtest.make_sheets(str(images), sc, [f"{copy}@painted"],
                       str(tmp_path / "q"), str(tmp_path / "q.json"))
  with pytest.raises(abtest.TfgcError, match="GC model: --synthesize"):
    abtest.make_sheets(str(images), plain, ["jpeg:1"], str(tmp_path / "t"),
                       str(tmp_path / "t.json"), synthesize=["0"])


def test_sets_merge_into_one_round_with_one_key(sheets, tmp_path, capsys):
  _, out, key_path, key, _ = sheets
  merged_dir = tmp_path / "merged"
  set_spec = f"{out}:{key_path}"
  assert abtest.main(["merge", f"--out={merged_dir}",
                      f"--key={tmp_path / 'key.json'}", "--seed=5",
                      set_spec, set_spec]) == 0
  with open(tmp_path / "key.json") as f:
    merged = json.load(f)
  count = 2 * len(key["sheets"])
  assert sorted(merged["sheets"]) == [f"{n:02d}" if count > 9 else str(n)
                                      for n in range(1, count + 1)]
  # Each sheet is its set's picture under its new number, with its entry.
  originals = {(e["image"], e["comparison"]): n
               for n, e in key["sheets"].items()}
  for number, entry in merged["sheets"].items():
    source = originals[(entry["image"], entry["comparison"])]
    assert (merged_dir / f"{number}.png").read_bytes() == (
        out / f"{source}.png").read_bytes()
  model_side = {n: ("A" if e["A"] == e["model"] else "B")
                for n, e in merged["sheets"].items()}
  result = abtest.score(merged, [model_side])
  assert sum(t["votes"] for t in result.values()) == count
  capsys.readouterr()
  assert abtest.main(["merge", f"--out={merged_dir}",
                      f"--key={merged_dir / 'key.json'}", set_spec]) == 1
  assert "inside the sheets folder" in capsys.readouterr().err
  assert abtest.main(["merge", f"--out={tmp_path / 'm2'}",
                      f"--key={tmp_path / 'k2.json'}", str(out)]) == 1
  assert "SHEETS_FOLDER:KEY.json" in capsys.readouterr().err
  assert abtest.main(["merge", f"--out={tmp_path / 'm3'}",
                      f"--key={tmp_path / 'k3.json'}",
                      f"{tmp_path}:{key_path}"]) == 1
  assert f"{tmp_path} has no sheet" in capsys.readouterr().err
