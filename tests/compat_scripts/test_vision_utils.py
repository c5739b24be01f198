"""chainrule.vision.utils (torchvision.utils): make_grid's layout and save_image's pixels."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.vision.utils import make_grid, save_image


def numbered_images(count, channels=3, size=2):
    return cr.tensor(np.arange(count * channels * size * size, dtype=np.float32)
                     .reshape(count, channels, size, size) / (count * channels * size * size))


def test_grid_places_each_image_in_its_cell():
    images = numbered_images(5)
    grid = make_grid(images, nrow=3, padding=1, pad_value=-1.0)
    # 3 columns, 2 rows of 2x2 cells with 1 pixel of padding around and between
    assert tuple(grid.shape) == (3, 1 + 2 * 3, 1 + 3 * 3)
    g = grid.numpy()
    for k in range(5):
        row, col = divmod(k, 3)
        top, left = 1 + row * 3, 1 + col * 3
        np.testing.assert_array_equal(g[:, top:top + 2, left:left + 2], images.numpy()[k])
    assert (g[:, 4:6, 7:9] == -1).all()            # the sixth cell stays padding
    assert (g[:, 0, :] == -1).all() and (g[:, :, 3] == -1).all()


def test_grey_images_become_three_channels_and_one_image_has_no_border():
    grey = numbered_images(2, channels=1)
    grid = make_grid(grey, padding=0)
    assert tuple(grid.shape) == (3, 2, 4)
    np.testing.assert_array_equal(grid.numpy()[0], grid.numpy()[2])
    single = make_grid(numbered_images(1, channels=1)[0])
    assert tuple(single.shape) == (3, 2, 2)
    assert tuple(make_grid(cr.zeros(5, 7)).shape) == (3, 5, 7)


def test_normalize_maps_the_range_onto_0_1():
    images = cr.tensor([[[[-2.0, 0.0], [2.0, 1.0]]], [[[4.0, 4.0], [6.0, 8.0]]]])
    whole = make_grid(images, padding=0, normalize=True).numpy()[0]
    np.testing.assert_allclose(whole, [[0, 0.2, 0.6, 0.6], [0.4, 0.3, 0.8, 1.0]])
    each = make_grid(images, padding=0, normalize=True, scale_each=True).numpy()[0]
    np.testing.assert_allclose(each, [[0, 0.5, 0, 0], [1.0, 0.75, 0.5, 1.0]])
    clipped = make_grid(images, padding=0, normalize=True, value_range=(0.0, 4.0)).numpy()[0]
    np.testing.assert_allclose(clipped, [[0, 0, 1, 1], [0.5, 0.25, 1, 1]])
    assert images.numpy().min() == -2.0             # the input is left alone


def test_bad_input_names_make_grid():
    with pytest.raises(ValueError, match="make_grid"):
        make_grid(cr.zeros(1, 1, 1, 2, 2))
    with pytest.raises(TypeError, match="make_grid"):
        make_grid(cr.zeros(2, 1, 2, 2), normalize=True, value_range=[0, 1])


def test_save_image_writes_the_grid_as_pixels(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    images = numbered_images(4, channels=1)
    path = tmp_path / "grid.png"
    save_image(images, path, nrow=2, padding=1)
    pixels = np.asarray(Image.open(path))
    expected = make_grid(images, nrow=2, padding=1).numpy().transpose(1, 2, 0)
    np.testing.assert_array_equal(pixels, np.clip(expected * 255 + 0.5, 0, 255).astype(np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]
    with pytest.raises(ValueError, match="save_image"):
        save_image(images, tmp_path / "grid.unknown")
