"""tfgc: extreme learned image compression with GANs (TensorFlow/Keras).

`pip install .` gives compression and decompression; the extras `train`
and `eval` add training and evaluation (tfgc/extras.py). The pins are the
requirements files' (BUILD.md).
"""

import re

import setuptools

with open("tfgc/__init__.py") as f:
  VERSION = re.search(r'__version__ = "([^"]+)"', f.read()).group(1)


def requirements(name):
  """The pins of requirements-NAME.txt (requirements.txt for "")."""
  with open(f"requirements{'-' + name if name else ''}.txt") as f:
    return [line.strip() for line in f
            if line.strip() and not line.startswith("#")]


TRAIN = requirements("train") + requirements("nodeps")

setuptools.setup(
    name="tfgc",
    version=VERSION,
    description="Extreme learned image compression with generative "
                "adversarial networks (Agustsson et al., ICCV 2019)",
    # The weights folders hold data only; named here, setuptools installs
    # them without warning that they look like packages.
    packages=setuptools.find_packages(include=["tfgc", "tfgc.*"])
    + ["tfgc.weights", "tfgc.labellers.weights"],
    include_package_data=True,
    python_requires=">=3.10,<3.12",
    license="Apache-2.0",
    install_requires=requirements(""),
    extras_require={"train": TRAIN, "eval": TRAIN + requirements("eval")},
    entry_points={"console_scripts": ["tfgc = tfgc.cli:main"]},
)
