"""Progress of long commands for the person waiting: numbered lines, one
per step of work, with an estimate of the time left (`tfgc.evaluate`),
and a tile count rewritten in place on a terminal (`tfgc compress` coding one
large image in tiles).

Lines go to whatever `write` the command passes (its stderr), so stdout
keeps only the answer; the numbers of a run are the same every time, only
the times differ.
"""

import sys
import time


def duration(seconds):
  """Seconds as "42s", "2m10s" or "1h05m"."""
  seconds = round(seconds)
  if seconds < 60:
    return f"{seconds}s"
  if seconds < 3600:
    return f"{seconds // 60}m{seconds % 60:02d}s"
  return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Steps:
  """Numbered lines, one as each step starts:
  "[3/14] x265 on face.png (13 target rates), ETA 2m10s".

  The ETA is the mean time of the steps done so far times the steps left
  (none on the first step). `total` is the steps expected: set it once
  the work is known, lower it for work that will not run.

  write: called with each line; None writes nothing.
  clock: seconds from a monotonic clock (a fake one in tests).
  """

  def __init__(self, write, total=0, clock=time.monotonic):
    self.total = total
    self.started = 0
    self._write = write or (lambda line: None)
    self._clock = clock
    self._first_start = None

  def note(self, line):
    """A line that is not a step (loading, writing)."""
    self._write(line)

  def start(self, what):
    """Ends the step running, if any, and starts the step `what`."""
    now = self._clock()
    if self._first_start is None:
      self._first_start = now
    done = self.started
    self.started += 1
    line = f"[{self.started}/{self.total}] {what}"
    if done:
      per_step = (now - self._first_start) / done
      line += f", ETA {duration(per_step * (self.total - done))}"
    self._write(line)

  def finished(self):
    """"6 steps in 37s": the steps started, and the time since the first
    began."""
    elapsed = (self._clock() - self._first_start
               if self._first_start is not None else 0)
    steps = "step" if self.started == 1 else "steps"
    return f"{self.started} {steps} in {duration(elapsed)}"


def tile_meter(label, stream=None):
  """A progress callback for `tfgc.codec.Codec`'s tiles: "label: tile 3 of
  12" on `stream` (default stderr), rewritten in place and wiped after
  the last tile, nothing for an image of one tile. None unless the stream
  is a terminal: logs and pipes get no carriage returns."""
  stream = stream or sys.stderr
  if not stream.isatty():
    return None

  def show(done, total):
    if total == 1:
      return
    text = f"{label}: tile {done} of {total}"
    stream.write("\r" + (text if done < total else " " * len(text) + "\r"))
    stream.flush()
  return show
