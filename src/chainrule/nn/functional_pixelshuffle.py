"""``F.pixel_shuffle`` and ``F.pixel_unshuffle``: a reshape, a permutation and a reshape, so their
gradient is the same rearrangement run backwards."""


def _check(input, op):
    if input.ndim < 3:
        raise RuntimeError(f"{op}: expected an input of at least 3 dimensions (*, C, H, W), got "
                           f"shape {tuple(input.shape)}")


def pixel_shuffle(input, upscale_factor):
    """out[..., c, h r + i, w r + j] = input[..., c r^2 + i r + j, h, w]."""
    _check(input, "pixel_shuffle")
    r = int(upscale_factor)
    *batch, channels, height, width = input.shape
    if r <= 0 or channels % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible "
                           f"by the square of upscale_factor, but input.size(-3)={channels} is not "
                           f"divisible by {r * r}")
    c, n = channels // (r * r), len(batch)
    x = input.reshape(*batch, c, r, r, height, width)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*batch, c, height * r, width * r)


def pixel_unshuffle(input, downscale_factor):
    """out[..., c r^2 + i r + j, h, w] = input[..., c, h r + i, w r + j]."""
    _check(input, "pixel_unshuffle")
    r = int(downscale_factor)
    *batch, channels, height, width = input.shape
    if r <= 0 or height % r or width % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor, but got height={height}, width={width} and "
                           f"downscale_factor={r}")
    n = len(batch)
    x = input.reshape(*batch, channels, height // r, r, width // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*batch, channels * r * r, height // r, width // r)
