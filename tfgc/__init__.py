"""tfgc: extreme learned image compression with generative adversarial
networks (Agustsson et al., ICCV 2019) in TensorFlow/Keras."""

from tfgc import quiet as _quiet

__version__ = "0.1.0"

_quiet.default_to_quiet()
