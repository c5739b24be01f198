"""draw_graph: the nodes, edges, values and gradients it shows are the real ones."""
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chainrule as cr
from chainrule.viz import draw_graph

ENGINES = ["python"] + (["dot"] if shutil.which("dot") else [])


def lecture_graph():
    x = cr.tensor(-2.0, requires_grad=True)
    y = cr.tensor(5.0, requires_grad=True)
    z = cr.tensor(-4.0, requires_grad=True)
    q = x + y
    f = q * z
    return x, y, z, q, f


def by_name(g):
    return {n.name: n for n in g.nodes}


def named_edges(g):
    ids = {n.id: (n.name or n.op) for n in g.nodes}
    return sorted((ids[a], ids[b]) for a, b in g.edges)


@pytest.mark.parametrize("engine", ENGINES)
def test_lecture_graph_nodes_edges_values_and_grads(engine):
    x, y, z, q, f = lecture_graph()
    g = draw_graph(f, engine=engine)          # names come from these local variables
    nodes = by_name(g)
    assert set(nodes) == {"x", "y", "z", "q", "f"}
    assert [nodes[k].kind for k in "xyz"] == ["leaf"] * 3
    assert (nodes["q"].op, nodes["f"].op) == ("Add", "Mul")
    assert named_edges(g) == [("q", "f"), ("x", "q"), ("y", "q"), ("z", "f")]
    values = {k: float(nodes[k].value) for k in "xyzqf"}
    assert values == {"x": -2.0, "y": 5.0, "z": -4.0, "q": 3.0, "f": -12.0}
    grads = {k: float(nodes[k].grad) for k in "xyzqf"}
    assert grads == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}
    assert nodes["f"].root and not nodes["q"].root
    svg = g.svg()
    texts = [t.strip() for t in ET.fromstring(svg).itertext()]   # well-formed XML
    for text in ("value -12", "grad -4", "grad 3", "Add", "Mul"):
        assert text in texts
    png = g.png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    assert g._repr_svg_() == svg


def test_drawing_leaves_grads_and_graph_untouched():
    x, y, z, q, f = lecture_graph()
    draw_graph(f, engine="python")
    assert x.grad is None and q.grad is None
    f.backward()                              # the graph was retained, so this still works
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)


def test_after_backward_retain_graph_nothing_is_accumulated_again():
    x, y, z, q, f = lecture_graph()
    f.backward(retain_graph=True)
    g = draw_graph(f, engine="python")
    assert float(by_name(g)["x"].grad) == -4.0
    assert x.grad.item() == -4.0              # not accumulated a second time


def drawn(g):
    return {n.name: (n.op, n.shape, n.value, n.grad) for n in g.nodes}


def assert_same_drawing(before, after):
    assert named_edges(before) == named_edges(after)
    want, got = drawn(before), drawn(after)
    assert list(want) == list(got)
    for name, (op, shape, value, grad) in want.items():
        assert got[name][:2] == (op, shape), name
        for a, b in ((value, got[name][2]), (grad, got[name][3])):
            assert (a is None) == (b is None), name
            if a is not None:
                np.testing.assert_array_equal(a, b, err_msg=name)


def test_lecture_workflow_draw_after_plain_backward():
    x, y, z, q, f = lecture_graph()
    before = draw_graph(f, engine="python")
    f.backward()                              # plain: the saved values are freed
    after = draw_graph(f, engine="python")
    assert_same_drawing(before, after)
    grads = {k: float(after.node(k).grad) for k in "xyzqf"}
    assert grads == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}
    assert after.svg() == before.svg()
    x.grad.zero_()                            # the drawing holds a copy of .grad
    assert float(after.node("x").grad) == -4.0
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        f.backward()


def test_model_drawn_after_plain_backward_equals_before():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(2, 8), cr.nn.Tanh(), cr.nn.Linear(8, 1))
    loss = cr.nn.MSELoss()(model(cr.randn(5, 2)), cr.randn(5, 1))
    # max_values 64: every op output here has at most 64 elements, so all gradients are kept
    before = draw_graph(loss, module=model, engine="python", max_values=64)
    loss.backward()
    assert_same_drawing(before, draw_graph(loss, module=model, engine="python", max_values=64))
    summary = draw_graph(loss, module=model, engine="python", max_nodes=4)
    assert summary.summarised and len(summary.nodes) <= 4


def test_after_backward_op_gradients_are_this_graphs_and_leaves_show_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    out = h.sum()
    out.backward()
    (x * x).sum().backward()                  # a second graph adds 2x into x.grad
    g = draw_graph(out, names={"x": x, "h": h, "out": out}, engine="python")
    np.testing.assert_array_equal(g.node("h").grad, [1.0, 1.0])
    np.testing.assert_array_equal(g.node("x").grad, [3.0 + 2.0, 3.0 + 4.0])   # x.grad: the sum


def test_non_scalar_after_backward_shows_the_seeded_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(gradient=cr.tensor([1.0, 0.5]))
    g = draw_graph(y, names={"x": x, "y": y}, engine="python")
    np.testing.assert_array_equal(g.node("y").grad, [1.0, 0.5])
    np.testing.assert_array_equal(g.node("x").grad, [2.0, 2.0])


def test_partly_freed_graph_needs_show_grads_false():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.sum().backward()                        # frees h's node only
    f = (h * 3.0).sum()
    with pytest.raises(RuntimeError, match="freed by an earlier backward"):
        draw_graph(f, engine="python")
    g = draw_graph(f, names={"h": h, "f": f}, engine="python", show_grads=False)
    np.testing.assert_array_equal(g.node("h").value, [2.0, 4.0])
    assert all(n.grad is None for n in g.nodes)


def test_explicit_names_shared_input_and_constants():
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = (a * a * 2.0).sum()
    g = draw_graph(out, names={"a": a, "loss": out}, engine="python")
    nodes = by_name(g)
    assert set(nodes) == {"a", "loss", None}
    # a feeds the first Mul twice: one edge per use
    assert named_edges(g).count(("a", "Mul")) == 2
    np.testing.assert_allclose(nodes["a"].grad, 4 * a.array)
    np.testing.assert_allclose(nodes["a"].value, [1, 2, 3])
    assert nodes["loss"].value == 28.0


def test_non_scalar_output_shows_gradient_of_its_sum_and_hides_big_values():
    w = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    big = cr.ones(10, 3, requires_grad=True)
    y = big @ w.T                             # shape (10, 2): 20 values, too many to print
    g = draw_graph(y, names={"w": w, "big": big, "y": y}, engine="python", max_values=6)
    nodes = by_name(g)
    assert nodes["y"].value is None and nodes["big"].value is None
    np.testing.assert_allclose(nodes["w"].grad, np.full((2, 3), 10.0))
    assert nodes["y"].shape == (10, 2)
    assert "shape (10, 2)" in list(ET.fromstring(g.svg()).itertext())


def test_multi_output_op():
    x = cr.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = x.split(2)
    out = (a * 3).sum() + (b * b).sum()
    g = draw_graph(out, names={"x": x}, engine="python")
    split = [n for n in g.nodes if n.op == "Split"]
    assert len(split) == 1
    np.testing.assert_allclose(by_name(g)["x"].grad, [3, 3, 6, 8])


def test_deep_graph_is_walked_iteratively_and_summarised():
    x = cr.tensor([0.5], requires_grad=True)
    h = x
    for _ in range(3000):                     # deeper than Python's recursion limit
        h = (h * 0.999).tanh()
    g = draw_graph(h.sum(), names={"x": x}, engine="python", max_nodes=40)
    assert g.summarised and g.total_nodes == 6002 and len(g.nodes) <= 40
    chain = [n for n in g.nodes if n.kind == "group"]
    assert chain and chain[0].members == 6001 and "Mul×3000, Tanh×3000, Sum" in chain[0].op
    # the summary still carries the end values and gradient of the chain
    assert by_name(g)["x"].grad.shape == (1,) and by_name(g)["x"].grad[0] > 0.0
    ET.fromstring(g.svg())


def test_module_groups_ops_by_layer():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(2, 8), cr.nn.Linear(8, 8), cr.nn.Linear(8, 1))
    x = cr.randn(5, 2)
    loss = model(x).tanh().square().mean()
    full = draw_graph(loss, module=model, engine="python", max_nodes=100)
    names = {n.name for n in full.nodes if n.kind == "param"}
    assert names == {f"{i}.{p}" for i in range(3) for p in ("weight", "bias")}
    grads = {n.name: n.grad for n in full.nodes}
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(grads["2.bias"], model[2].bias.grad.array, rtol=1e-6)
    small = draw_graph(loss, module=model, engine="python", max_nodes=8)
    assert small.summarised and len(small.nodes) <= 8
    groups = {n.name for n in small.nodes if n.kind == "group"}
    assert "2" in groups


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="engine"):
        draw_graph(cr.ones(1), engine="neato")
    with pytest.raises(ValueError, match="unknown file type"):
        draw_graph(cr.ones(1), engine="python").save("graph.jpg")


def test_save_writes_files(tmp_path):
    *_, f = lecture_graph()
    g = draw_graph(f, engine="python")
    for suffix in ("svg", "png", "dot"):
        path = tmp_path / f"g.{suffix}"
        g.save(path)
        assert path.stat().st_size > 100
    assert "digraph" in (tmp_path / "g.dot").read_text()


def test_core_never_imports_matplotlib_and_cr_viz_loads_lazily():
    import subprocess
    import sys
    code = ("import sys, chainrule as cr; assert 'matplotlib' not in sys.modules; "
            "assert 'chainrule.viz' not in sys.modules; "
            "x = cr.tensor(2.0, requires_grad=True); "
            "g = cr.viz.draw_graph(x * x, engine='python'); "
            "assert len(g.nodes) == 2 and 'matplotlib' not in sys.modules; print('ok')")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
