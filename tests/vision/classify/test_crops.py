from __future__ import annotations

import numpy as np
import pytest

from brightwatch.vision.classify.crops import crop_boxes, expand_box


@pytest.mark.parametrize(
    ("box", "expand", "square", "expected"),
    [
        ((10, 10, 20, 30), 1.0, False, (10, 10, 20, 30)),
        ((10, 10, 20, 30), 2.0, False, (5, 0, 25, 40)),  # top clipped at 0
        ((10, 10, 20, 30), 1.0, True, (5, 10, 25, 30)),  # widened to 20 x 20
        ((90, 90, 99, 99), 3.0, False, (81, 81, 100, 100)),  # clipped at the far edges
        ((50, 50, 50, 50), 1.0, False, (49, 49, 51, 51)),  # a point still gives pixels
    ],
)
def test_expand_box(box, expand, square, expected) -> None:  # type: ignore[no-untyped-def]
    assert expand_box(box, expand, 100, 100, square=square) == expected


def test_crop_boxes_cuts_the_pixels() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[20:40, 10:30] = 255
    (crop,) = crop_boxes(image, [(10, 20, 30, 40)])
    assert crop.shape == (20, 20, 3) and crop.min() == 255
