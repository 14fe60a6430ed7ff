import pytest

from tfgc import bdrate

ANCHOR = [(0.1, 25.0), (0.2, 28.0), (0.4, 31.0), (0.8, 34.0)]


def scaled(curve, factor):
  return [(bpp * factor, quality) for bpp, quality in curve]


def test_identical_curves_differ_by_nothing():
  assert bdrate.bd_rate(ANCHOR, ANCHOR) == pytest.approx(0.0, abs=1e-9)


def test_half_the_rate_everywhere_is_minus_fifty_percent():
  assert bdrate.bd_rate(ANCHOR, scaled(ANCHOR, 0.5)) == pytest.approx(-50.0)
  assert bdrate.bd_rate(ANCHOR, scaled(ANCHOR, 2.0)) == pytest.approx(100.0)


def test_a_single_operating_point_is_compared_at_its_quality():
  assert bdrate.bd_rate(ANCHOR, [(0.1, 28.0)]) == pytest.approx(-50.0)
  # Between measured points the anchor's log-rate is interpolated.
  value = bdrate.bd_rate(ANCHOR, [(0.2, 29.5)])
  assert -30.0 < value < -20.0


def test_qualities_outside_the_anchor_are_unknown_not_extrapolated():
  assert bdrate.bd_rate(ANCHOR, [(0.05, 20.0)]) is None
  assert bdrate.bd_rate(ANCHOR, [(1.0, 40.0)]) is None
  assert bdrate.bd_rate([], ANCHOR) is None


def test_only_the_overlap_of_two_curves_counts():
  test = [(0.1, 31.0), (0.2, 34.0), (0.4, 37.0)]
  # Over 31..34 dB the test needs a quarter of the anchor's rate.
  assert bdrate.bd_rate(ANCHOR, test) == pytest.approx(-75.0)


def test_settings_that_buy_nothing_are_dropped_from_a_curve():
  rates, qualities = bdrate.monotone_curve(
      [(0.3, 27.0), (0.1, 25.0), (0.2, 28.0), (0.2, 29.0), (0.0, 10.0)])
  assert list(rates) == [0.1, 0.2]
  assert list(qualities) == [25.0, 28.0]


def test_per_image_rates_average_geometrically():
  assert bdrate.mean_bd_rate([-50.0, 100.0, None]) == pytest.approx(0.0)
  assert bdrate.mean_bd_rate([None]) is None
