"""The report's words for BD-rates."""

import pytest

from tfgc import report


def entry(percent, images, below=0, above=0):
  return dict(percent=percent, images=images, below_codec_range=below,
              above_codec_range=above)


@pytest.mark.parametrize("bd,words", [
    (entry(35.24, 5, below=2),
     "+35.2% on 5 of 7 images (tfgc gc needs 35% more bits for the same "
     "PSNR); left out: 2 images where tfgc gc is worse than x265's "
     "smallest file"),
    (entry(-12.0, 7),
     "-12.0% on 7 of 7 images (tfgc gc needs 12% fewer bits for the same "
     "PSNR)"),
    (entry(0.3, 1, above=6),
     "+0.3% on 1 of 7 images (tfgc gc needs about as many bits for the same "
     "PSNR); left out: 6 images where tfgc gc is better than x265's "
     "largest file"),
    (entry(None, 0, below=6, above=1),
     "unknown: 6 images where tfgc gc is worse than x265's smallest file, "
     "1 image where tfgc gc is better than x265's largest file"),
    (entry(None, 0), "unknown: no image to compare on"),
])
def test_bd_rates_read_as_words(bd, words):
  assert report.bd_rate_words(bd, 7, "gc", "x265", "psnr") == words
