"""Make docs/gallery.md and every picture in docs/gallery/ from real chainrule computations.

    python scripts/make_gallery.py            # full size, into docs/
    python scripts/make_gallery.py --quick --out /tmp/gallery   # reduced sizes (CI)

Each picture comes from a recipe in ``chainrule.viz.gallery`` (the same ones ``chainrule plot``
uses). PNGs are re-encoded with a 256-colour palette to keep the repository small.
"""
import argparse
import io
import os
import sys
import time

from chainrule.viz import gallery
from chainrule.viz._figure import write_atomic

# (file name, recipe, keyword arguments, title, caption)
ENTRIES = [
    ("graph.svg", gallery.lecture_graph, {}, "The computational graph of f = (x + y) z",
     "`cr.viz.draw_graph(f)` at x = -2, y = 5, z = -4: each node shows its value (green) and "
     "the gradient df/d(node) computed by chainrule's autograd (red): the forward values -2, 5, "
     "-4, 3, -12 and the gradients -4, -4, 3 of the lecture."),
    ("neuron.svg", gallery.neuron_graph, {}, "The sigmoid neuron, node by node",
     "f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) built from elementary operations: the output "
     "0.73 and the gradients 0.39 / -0.59 (inputs), -0.2 / -0.39 / 0.2 (weights) of the lecture."),
    ("mlp_graph.svg", gallery.mlp_graph, {}, "A network's graph summarised by layer",
     "`draw_graph(loss, module=model, max_nodes=10)`: a 2-16-16-3 classifier; ops are grouped "
     "into the layer that owns them instead of drawing every node."),
    ("activations.png", gallery.activations, {}, "Activation functions and their derivatives",
     "`cr.viz.plot_activations()`: each function (blue) and its derivative obtained by "
     "backward through it (orange, dashed). Grey: where |f'| < 0.1·max|f'| — a unit there "
     "passes almost no gradient back (saturation; ReLU's dead side)."),
    ("race_rosenbrock.png", gallery.race, {"name": "rosenbrock"}, "Optimisers on the Rosenbrock valley",
     "`cr.viz.optimizer_race(\"rosenbrock\", ...)`: SGD crawls down the steep wall, momentum "
     "and Nesterov follow the curved valley floor, the adaptive methods move at a steady pace."),
    ("race_rosenbrock.gif", gallery.race, {"name": "rosenbrock"}, "The same race, animated", ""),
    ("race_bowl.png", gallery.race, {"name": "bowl"}, "An ill-conditioned bowl (κ = 20)",
     "Plain SGD zig-zags across the narrow direction while creeping along the long one; "
     "momentum damps the zig-zag; RMSprop and Adam rescale each coordinate."),
    ("race_saddle.png", gallery.race, {"name": "saddle"}, "Escaping a saddle point",
     "f = x² − y², started almost on the ridge (y = 0.01): SGD slows to a crawl near the "
     "saddle; momentum and the adaptive methods escape along y."),
    ("race_beale.png", gallery.race, {"name": "beale"}, "Beale's function",
     "Flat plateaus and steep walls: the adaptive methods reach the minimum (3, 0.5)."),
    ("race_himmelblau.png", gallery.race, {"name": "himmelblau"}, "Himmelblau's function",
     "Four minima of equal height: from the same start, different optimisers end in "
     "different minima."),
    ("lr_sweep.png", gallery.lr_sweep, {}, "Learning rates: too small, good, too large, divergent",
     "`cr.viz.lr_sweep(...)`: the same network from the same initial weights trained with SGD "
     "at four learning rates. The run that diverges ends (×) where its loss overflowed."),
    ("boundary_xor.png", gallery.decision_xor, {}, "Decision boundary for XOR",
     "`cr.viz.plot_decision_boundary(model, X, y)`: the probability of each class over the "
     "plane (pale where the model is unsure) and the 0.5 contour."),
    ("boundary_xor_discrete.png", gallery.decision_xor, {"discretize": True}, "Decision regions",
     "`discretize=True`: only the predicted class."),
    ("boundary_spirals.png", gallery.decision_spirals, {}, "Three classes",
     "A multi-class model: softmax probabilities mixed in the class colours."),
    ("boundary_regression.png", gallery.decision_regression, {}, "Regression over the plane",
     "The prediction as a colour map, the points coloured by their targets on the same scale."),
    ("hidden_xor.png", gallery.hidden_xor, {}, "What the hidden layer does",
     "`cr.viz.plot_hidden_representation(model, layer, X, y)`: the original XOR data, the same "
     "points after the 2-unit tanh layer (now linearly separable), and the output layer's "
     "linear decision boundary drawn in that hidden plane."),
    ("history.png", gallery.history, {}, "Training history with early stopping",
     "`cr.viz.plot_history(history, early_stopping=stopper)`: a big network on a few noisy "
     "points overfits; the best validation epoch and the epoch where early stopping ended "
     "training are marked."),
    ("gradient_flow.png", gallery.gradient_flow, {}, "Gradient flow in a deep sigmoid network",
     "`cr.viz.gradient_flow(model, X, y)`: ‖dL/dW‖ of each layer at every step; the layers "
     "near the input get gradients orders of magnitude smaller (vanishing gradients)."),
    ("gradient_comparison.png", gallery.gradient_flow_comparison, {}, "Sigmoid vs ReLU, init, batch norm",
     "`cr.viz.compare_gradient_flow(...)`: mean gradient norm by depth for the same 8-layer "
     "network with different activations, initialisations and batch normalisation."),
]


def shrink_png(path):
    """Re-encode a PNG with an adaptive palette: a fraction of the size, visually the same."""
    from PIL import Image
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        buf = io.BytesIO()
        small.save(buf, format="PNG", optimize=True)
    write_atomic(path, buf.getvalue())


def make(out_dir, markdown, quick, only=None):
    os.makedirs(out_dir, exist_ok=True)
    cache = {}
    lines = ["# Gallery", "",
             "Every picture here is drawn by `cr.viz` from a real chainrule computation; "
             "`python scripts/make_gallery.py` regenerates this page and all its images "
             "(the recipes are in `src/chainrule/viz/gallery.py`; `chainrule plot ...` draws "
             "them from the command line).", ""]
    rel = os.path.relpath(out_dir, os.path.dirname(os.path.abspath(markdown)))
    for fname, recipe, kwargs, title, caption in ENTRIES:
        lines += [f"## {title}", "", f"![{title}]({rel}/{fname})", ""]
        if caption:
            lines += [caption, ""]
        if only and fname not in only:
            continue   # the page still lists every picture; only these are remade
        started = time.perf_counter()
        key = (recipe, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = recipe(quick=quick, **kwargs)
        result = cache[key]
        path = os.path.join(out_dir, fname)
        if fname.endswith(".gif"):
            result.save_gif(path, frames=6 if quick else 20, fps=5, dpi=40 if quick else 72)
        elif fname.endswith(".png"):
            result.save(path, dpi=60 if quick else 72)
            shrink_png(path)
        else:
            result.save(path)
        size = os.path.getsize(path)
        print(f"{fname:30s} {size / 1024:7.1f} KB {time.perf_counter() - started:6.2f} s",
              flush=True)
    write_atomic(markdown, "\n".join(lines))
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes and steps (CI)")
    ap.add_argument("--out", default=None, help="output folder (default docs/gallery, or with "
                    "--quick a folder you name)")
    ap.add_argument("--only", nargs="*", help="make only these files")
    args = ap.parse_args(argv)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    out = args.out or os.path.join(root, "docs", "gallery")
    # the page lives beside its image folder in docs/, inside the folder given by --out
    markdown = os.path.join(root, "docs", "gallery.md") if args.out is None else \
        os.path.join(out, "gallery.md")
    make(out, markdown, args.quick, args.only)


if __name__ == "__main__":
    sys.exit(main())
