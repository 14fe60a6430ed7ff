import json

import pytest

from tfgc import config


def test_presets_are_named_by_their_key():
  for name, preset in config.PRESETS.items():
    assert preset.name == name


def test_config_round_trips_through_json():
  original = config.preset("small").replace(latent_channels=4)
  assert config.Config.from_json(original.to_json()) == original


def test_unknown_json_field_is_an_error():
  values = json.loads(config.preset("tiny").to_json())
  values["colour"] = "blue"
  with pytest.raises(config.ConfigError, match="colour"):
    config.Config.from_json(json.dumps(values))


@pytest.mark.parametrize("changes, field", [
    (dict(centers=(0, 2, 3)), "centers"),
    (dict(normalization="batch"), "normalization"),
    (dict(upsampling="bicubic"), "upsampling"),
    (dict(entropy_model="jpeg"), "entropy_model"),
    (dict(encoder_filters=(8, 8)), "encoder_filters"),
    (dict(mode="sc"), "num_classes"),
    (dict(discriminator_labels=True), "num_classes"),
    (dict(num_classes=300), "num_classes"),
    (dict(mode="sc", num_classes=3, semantic_filters=(4,)),
     "semantic_filters"),
    (dict(mode="sc", num_classes=3, labeller="sky"), "labeller"),
    (dict(labeller="standin"), "labeller needs mode 'sc'"),
    (dict(mode="sc", num_classes=3, labeller="person"), "num_classes 2"),
    (dict(mode="sc", num_classes=2, labeller="objects"), "num_classes 13"),
])
def test_bad_fields_raise_config_error_naming_the_field(changes, field):
  with pytest.raises(config.ConfigError, match=field):
    config.preset("tiny").replace(**changes)


def test_unknown_preset_lists_the_known_ones():
  with pytest.raises(config.ConfigError, match="tiny"):
    config.preset("huge")


def test_rate_bound_matches_design():
  assert config.preset("tiny").replace(
      latent_channels=4).bits_per_pixel_bound == pytest.approx(0.036, abs=5e-4)
  assert config.preset("tiny").replace(
      latent_channels=8).bits_per_pixel_bound == pytest.approx(0.073, abs=5e-4)


def test_fields_added_later_take_the_named_presets_values():
  values = json.loads(config.preset("small").replace(
      latent_channels=4).to_json())
  del values["semantic_filters"]  # As saved before SC existed.
  restored = config.Config.from_json(json.dumps(values))
  assert restored == config.preset("small").replace(latent_channels=4)


def test_retired_warmup_steps_loads_at_zero_and_is_refused_otherwise():
  """Runs saved with the in-run warm-up switch: the adversarial stages of
  the default models (0) still resume, a run that would switch is told how
  to train now."""
  values = json.loads(config.preset("small").to_json())
  restored = config.Config.from_json(json.dumps(dict(values, warmup_steps=0)))
  assert restored == config.preset("small")
  with pytest.raises(config.ConfigError, match="--init_from"):
    config.Config.from_json(json.dumps(dict(values, warmup_steps=5000)))


def test_retired_standin_labels_becomes_the_standin_labeller():
  """Models exported before configs named their labeller (the bundled
  sc-small-c8): standin_labels=true is labeller "standin"."""
  sc = config.preset("small").replace(mode="sc", num_classes=8)
  values = json.loads(sc.to_json())
  del values["labeller"]
  for old, labeller in ((True, "standin"), (False, "")):
    restored = config.Config.from_json(json.dumps(
        dict(values, standin_labels=old)))
    assert restored == sc.replace(labeller=labeller)


def test_a_config_saved_before_the_split_gives_its_model_and_its_recipe():
  recipe = config.Recipe(beta=6.0, learning_rate=1e-4, weight_average=0.999)
  old = json.dumps(dict(json.loads(config.preset("medium").to_json()),
                        **json.loads(recipe.to_json())))
  assert config.Config.from_json(old) == config.preset("medium")
  assert config.Recipe.from_json(old) == recipe
  assert config.Recipe.from_json(recipe.to_json()) == recipe
  assert not set(config.RECIPE_FIELDS) & set(
      json.loads(config.preset("medium").to_json()))


@pytest.mark.parametrize("changes, field", [
    (dict(beta=-1.0), "beta"), (dict(learning_rate=0.0), "learning_rate"),
    (dict(perceptual_network="resnet"), "perceptual_network"),
    (dict(weight_average=1.0), "weight_average")])
def test_a_recipe_that_cannot_train_names_its_field(changes, field):
  with pytest.raises(config.ConfigError, match=field):
    config.Recipe(**changes)


def test_named_recipes_differ_where_their_stages_do():
  """warmup: no adversarial term; rd: warmup at a high MSE weight with a
  weight average; adversarial: the bundled models' stage; base: the
  class defaults."""
  recipes = config.RECIPES
  assert not recipes["warmup"].adversarial and not recipes["rd"].adversarial
  assert recipes["rd"] == recipes["warmup"].replace(
      lambda_mse=150.0, adam_beta_1=0.9, weight_average=0.999)
  assert recipes["adversarial"].gan_weight == 0.15
  assert recipes["adversarial"].perceptual_network == "alexnet"
  assert recipes["base"] == config.Recipe()
  assert config.recipe_preset("rd") is recipes["rd"]
  with pytest.raises(config.ConfigError, match="warmup"):
    config.recipe_preset("gan")
