"""An exponential moving average of a model's weights, for validation and
export: GAN weights wander from step to step (validation PSNR moves by
~2 dB between checkpoints 1,000 steps apart), their average less so.
"""

import tensorflow as tf

# The average's decay ramps up from 0 as n / (n + RAMP) over its first
# updates (as `tf.train.ExponentialMovingAverage` with `num_updates`), so
# it starts as a copy of the weights it is first updated with, whatever
# they were when it was created (before a warm start, say).
RAMP = 10.0


class WeightAverage(tf.Module):
  """a ← d·a + (1 − d)·w after each update of the weights w.

  d = min(`decay`, n / (n + RAMP)) at the n-th update (counting from 0), so
  the first update copies w. The averages and n are variables, tracked
  (and checkpointed) with whatever tracks this module.

  Args:
    variables: the float32 variables to average, in a fixed order.
    decay: in (0, 1); 0.999 averages over roughly the last 1,000 updates.
  """

  def __init__(self, variables, decay, name="weight_average"):
    super().__init__(name=name)
    if not 0 < decay < 1:
      raise ValueError(f"weight average decay must be in (0, 1), got {decay}")
    self.decay = decay
    self._variables = list(variables)
    with self.name_scope:
      self.updates = tf.Variable(
          0, dtype=tf.int64, trainable=False, name="updates",
          aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
      self.averages = [
          tf.Variable(v.read_value(), trainable=False,
                      name=v.name.split(":")[0].replace("/", "_"),
                      aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
          for v in self._variables]

  def update(self):
    """Moves each average towards its variable's current value."""
    n = tf.cast(self.updates, tf.float32)
    decay = tf.minimum(self.decay, n / (n + RAMP))
    for average, variable in zip(self.averages, self._variables):
      average.assign(decay * average + (1.0 - decay) * variable)
    self.updates.assign_add(1)

  def copy_to(self, variables):
    """Assigns the averages to `variables` (same order and shapes as the
    averaged ones), e.g. those of a copy of the model."""
    variables = list(variables)
    if len(variables) != len(self.averages):
      raise ValueError(f"{len(variables)} variables for "
                       f"{len(self.averages)} averages")
    for variable, average in zip(variables, self.averages):
      variable.assign(average)
