"""Letterbox geometry, tensor layout, and the way back to image pixels."""

from __future__ import annotations

import numpy as np
import pytest

from brightwatch.vision.detector.preprocess import (
    PAD_VALUE,
    Letterbox,
    letterbox,
    prepare,
    to_tensor,
)


def test_wide_image_is_scaled_and_padded_top_and_bottom() -> None:
    image = np.full((100, 200, 3), 7, np.uint8)  # h 100, w 200
    boxed, lb = letterbox(image, (320, 320))
    assert boxed.shape == (320, 320, 3)
    assert lb == Letterbox(ratio=1.6, pad_x=0.0, pad_y=80.0, width=200, height=100)
    assert (boxed[:80] == PAD_VALUE).all() and (boxed[240:] == PAD_VALUE).all()
    assert (boxed[80:240] == 7).all()


def test_tall_image_is_padded_left_and_right() -> None:
    boxed, lb = letterbox(np.zeros((640, 320, 3), np.uint8), (320, 320))
    assert (lb.ratio, lb.pad_x, lb.pad_y) == (0.5, 80.0, 0.0)
    assert (boxed[:, :80] == PAD_VALUE).all() and (boxed[:, 80:240] == 0).all()


def test_odd_padding_rounds_like_ultralytics() -> None:
    # 1080 x 810 into 320: 240 x 320 content, 80 px of padding split 40 / 40
    boxed, lb = letterbox(np.zeros((1080, 810, 3), np.uint8), (320, 320))
    assert boxed.shape == (320, 320, 3)
    assert lb.pad_x == 40.0 and lb.pad_y == 0.0
    # 101 x 100 into 64: content 64 x 63, 1 px of padding goes to the right
    boxed, lb = letterbox(np.zeros((101, 100, 3), np.uint8), (64, 64))
    assert boxed.shape == (64, 64, 3) and lb.pad_x == 0.0


@pytest.mark.parametrize("size", [(480, 640), (1080, 810), (333, 517), (17, 900)])
def test_same_pixels_as_ultralytics_letterbox(size: tuple[int, int]) -> None:
    augment = pytest.importorskip("ultralytics.data.augment")
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
    ours, _ = letterbox(image, (320, 320))
    theirs = augment.LetterBox((320, 320), auto=False)(image=image)
    np.testing.assert_array_equal(ours, theirs)


def test_tensor_is_rgb_nchw_in_unit_range() -> None:
    blue = np.zeros((4, 6, 3), np.uint8)
    blue[..., 0] = 255  # BGR blue
    tensor = to_tensor([blue, blue])
    assert tensor.shape == (2, 3, 4, 6) and tensor.dtype == np.float32
    assert tensor[:, 2].min() == 1.0 and tensor[:, 0].max() == 0.0  # blue is channel 2 in RGB


def test_unmap_inverts_the_letterbox_and_clips() -> None:
    _, lb = letterbox(np.zeros((320, 640, 3), np.uint8), (320, 320))  # ratio 0.5, pad_y 80
    boxes = np.array([[110, 135, 210, 185], [-20, 50, 30, 400]], np.float32)
    back = lb.unmap(boxes)
    np.testing.assert_allclose(back[0], [220, 110, 420, 210])
    np.testing.assert_allclose(back[1], [0, 0, 60, 320])  # clipped to the 640 x 320 image


def test_prepare_batches_images_of_different_sizes() -> None:
    tensor, boxes = prepare(
        [np.zeros((10, 20, 3), np.uint8), np.zeros((30, 10, 3), np.uint8)], (64, 64)
    )
    assert tensor.shape == (2, 3, 64, 64)
    assert [b.width for b in boxes] == [20, 10]


def test_rejects_grey_images() -> None:
    with pytest.raises(ValueError, match="H x W x 3"):
        letterbox(np.zeros((10, 10), np.uint8), (32, 32))
