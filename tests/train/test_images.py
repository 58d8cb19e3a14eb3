import numpy as np
import torch
from PIL import Image

from biaslens.tensors import to_uint8_numpy
from biaslens.train.images import make_grid, save_image


def test_grid_places_each_tile():
    imgs = np.stack([np.full((4, 5, 3), v, np.uint8) for v in (10, 20, 30)])
    grid = make_grid(imgs, nrow=2, padding=1, pad_value=0)
    assert grid.shape == (2 * 5 + 1, 2 * 6 + 1, 3)
    assert (grid[1:5, 1:6] == 10).all() and (grid[1:5, 7:12] == 20).all()
    assert (grid[6:10, 1:6] == 30).all() and (grid[6:10, 7:12] == 0).all()  # empty slot


def test_float_images_map_to_uint8_and_png(tmp_path):
    x = torch.tensor([-1.0, 0.0, 1.0, 2.0]).view(1, 1, 1, 4).expand(1, 3, 1, 4)
    assert to_uint8_numpy(x)[0, 0, :, 0].tolist() == [0, 128, 255, 255]
    path = save_image(torch.zeros(5, 3, 8, 8), tmp_path / "g.png")
    with Image.open(path) as im:
        assert im.size == make_grid(torch.zeros(5, 3, 8, 8)).shape[1::-1]
