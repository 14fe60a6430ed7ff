"""The private APIs tfgc relies on are checked against the pinned
versions in one place (tfgc/pinned.py)."""

import os

import pytest

from conftest import REPO
from tfgc import pinned


def test_the_checked_versions_are_the_pinned_requirements():
  with open(os.path.join(REPO, "requirements.txt")) as f:
    pins = dict(line.strip().split("==") for line in f
                if "==" in line and not line.startswith("#"))
  for name, version in pinned.CHECKED.items():
    assert pins[name] == version


def test_another_version_is_refused_naming_the_file():
  installed = dict(pinned.CHECKED, keras="3.0.0")
  with pytest.raises(ImportError, match=r"found keras 3\.0\.0.*tfgc/pinned"):
    pinned.check(installed)
  pinned.check(dict(pinned.CHECKED))
