"""The head-region backstop of the privacy filter (vision.privacy.head_region)."""

from __future__ import annotations

import numpy as np
import pytest

from brightwatch.vision.privacy import (
    HEAD_MAX_SHARE,
    HEAD_PER_WIDTH,
    PrivacyFilter,
    PrivacyUnavailable,
    blurred_share,
    default_filter,
    head_region,
)


def test_an_upright_person_gets_the_top_of_the_box_widened() -> None:
    x1, y1, x2, y2 = head_region((100, 100, 160, 300), 640, 480)  # 60 x 200
    assert y1 < 100 and y2 == 100 + round(HEAD_PER_WIDTH * 60)  # ~ a head's height
    assert x1 < 100 and x2 > 160  # wider than the box: a turned head, arms out
    assert y2 < 200  # never the body


def test_a_wide_box_gets_at_most_a_share_of_its_height() -> None:
    _, y1, _, y2 = head_region((0, 200, 300, 300), 640, 480)  # bending over a counter
    assert y1 < 200 and y2 == 200 + round(HEAD_MAX_SHARE * 100)


def test_a_box_cut_by_the_top_edge_has_its_head_at_the_top_and_is_clipped() -> None:
    # 0.6 of its 120 px height (less than 0.7 of its 105 px width), from the top
    assert head_region((-5, 0, 100, 120), 90, 480) == (0, 0, 90, 72)


def test_blurred_share_counts_overlaps_once() -> None:
    assert blurred_share([(0, 0, 50, 100), (0, 0, 50, 100), (50, 0, 100, 50)], 100, 100) == 0.75
    assert blurred_share([], 10, 10) == 0.0


@pytest.fixture(scope="module")
def privacy() -> PrivacyFilter:
    try:
        return default_filter(max_width=960)
    except PrivacyUnavailable as exc:
        pytest.skip(f"needs the face model (scripts/fetch-face-model.sh): {exc}")


def picture(width: int, height: int) -> np.ndarray:
    """A smooth picture with no face in it: a gradient."""
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    return np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8).copy()


def test_the_filter_blurs_the_heads_it_is_given_and_nothing_else(privacy: PrivacyFilter) -> None:
    image = picture(640, 360)
    image[40:100, 200:260] = (30, 60, 200)  # something to blur away
    image[50:60, 210:220] = (250, 250, 250)
    plain = privacy.apply(image)
    assert plain.faces == 0 and plain.heads == 0 and plain.share == 0.0
    assert np.array_equal(plain.image, image)
    out = privacy.apply(image, [(200.0, 40.0, 260.0, 340.0)])
    x1, y1, x2, y2 = head_region((200.0, 40.0, 260.0, 340.0), 640, 360)
    assert out.heads == 1 and out.regions[0] == (x1, y1, x2, y2)
    patch = out.image[y1:y2, x1:x2].reshape(-1, 3)
    assert (patch.max(0) - patch.min(0)).max() <= 2  # one flat colour: nothing to recover
    outside = np.ones(image.shape[:2], bool)
    outside[y1:y2, x1:x2] = False
    assert np.array_equal(out.image[outside], image[outside])
    assert out.share == pytest.approx((x2 - x1) * (y2 - y1) / (640 * 360))


def test_persons_are_given_in_pixels_of_the_frame_before_down_sampling(
    privacy: PrivacyFilter,
) -> None:
    out = privacy.apply(picture(1920, 1080), [(960.0, 100.0, 1080.0, 700.0)])
    assert out.image.shape[:2] == (540, 960)
    assert out.regions[0] == head_region((480.0, 50.0, 540.0, 350.0), 960, 540)
