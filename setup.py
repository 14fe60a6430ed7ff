"""tfgc: extreme learned image compression with GANs (TensorFlow/Keras)."""

import re

import setuptools

with open("tfgc/__init__.py") as f:
  VERSION = re.search(r'__version__ = "([^"]+)"', f.read()).group(1)

with open("requirements.txt") as f:
  REQUIREMENTS = [line.strip() for line in f
                  if line.strip() and not line.startswith("#")
                  and not line.startswith("pytest")]

setuptools.setup(
    name="tfgc",
    version=VERSION,
    description="Extreme learned image compression with generative "
                "adversarial networks (Agustsson et al., ICCV 2019)",
    packages=setuptools.find_packages(include=["tfgc", "tfgc.*"]),
    py_modules=["compress", "train"],
    include_package_data=True,
    python_requires=">=3.10,<3.12",
    license="Apache-2.0",
    classifiers=[
        "License :: OSI Approved :: Apache Software License",
    ],
    install_requires=REQUIREMENTS,
)
