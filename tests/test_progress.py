"""Progress lines: numbered steps with an ETA, tiles on a terminal."""

import io

import pytest

from tfgc import progress


class FakeClock:
  def __init__(self):
    self.now = 100.0

  def __call__(self):
    return self.now


@pytest.mark.parametrize("seconds,text", [(0.4, "0s"), (42, "42s"),
                                          (130, "2m10s"), (3599, "59m59s"),
                                          (3900, "1h05m")])
def test_durations_read_as_hours_minutes_and_seconds(seconds, text):
  assert progress.duration(seconds) == text


def test_steps_are_numbered_with_the_mean_step_time_times_those_left():
  lines, clock = [], FakeClock()
  steps = progress.Steps(lines.append, clock=clock)
  steps.note("loading")
  steps.total = 4
  steps.start("a")
  clock.now += 10
  steps.start("b")
  clock.now += 20
  steps.total -= 1  # Work that will not run.
  steps.start("c")
  clock.now += 30
  assert steps.finished() == "3 steps in 1m00s"
  assert lines == ["loading", "[1/4] a", "[2/4] b, ETA 30s",
                   "[3/3] c, ETA 15s"]


def test_steps_count_without_a_writer_and_one_reads_singular():
  steps = progress.Steps(None, total=1, clock=FakeClock())
  steps.note("loading")
  steps.start("a")
  assert steps.finished() == "1 step in 0s"


class Terminal(io.StringIO):
  def isatty(self):
    return True


def test_tiles_are_counted_in_place_on_a_terminal_and_wiped_at_the_end():
  terminal = Terminal()
  show = progress.tile_meter("decoding", terminal)
  for done in (1, 2, 3):
    show(done, 3)
  assert terminal.getvalue() == ("\rdecoding: tile 1 of 3"
                                 "\rdecoding: tile 2 of 3"
                                 "\r" + " " * len("decoding: tile 3 of 3")
                                 + "\r")


def test_no_tile_count_for_one_tile_or_off_a_terminal():
  terminal = Terminal()
  progress.tile_meter("decoding", terminal)(1, 1)
  assert terminal.getvalue() == ""
  assert progress.tile_meter("decoding", io.StringIO()) is None
