"""tfgc: extreme learned image compression with generative adversarial
networks (Agustsson et al., ICCV 2019) in TensorFlow/Keras."""

__version__ = "0.1.0"
