import chainrule as cr


def test_lecture_scalar_example():
    """f(x, y, z) = (x + y) z at x=-2, y=5, z=-4: df/dx = -4, df/dy = -4, df/dz = 3."""
    x = cr.tensor(-2.0, requires_grad=True)
    y = cr.tensor(5.0, requires_grad=True)
    z = cr.tensor(-4.0, requires_grad=True)
    f = (x + y) * z
    f.backward()
    assert f.item() == -12.0
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)
