"""Teaching pictures drawn from real computations (the ``viz`` extra: matplotlib and pillow).

``draw_graph`` needs no matplotlib when Graphviz is installed; everything else builds
``matplotlib.figure.Figure`` objects directly (Agg canvas, no pyplot), so nothing here changes
global plotting state. The core never imports this package.
"""
from .graph import Graph, draw_graph


def __getattr__(name):
    # the matplotlib-based tools load on first use, so draw_graph works without matplotlib
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chainrule.viz' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f".{module}", __name__), name)


_LAZY = {"plot_activations": "activations", "Plot": "_figure", "optimizer_race": "optimizers",
         "lecture_optimizers": "optimizers", "Surface": "optimizers",
         "quadratic_bowl": "optimizers", "rosenbrock": "optimizers", "beale": "optimizers",
         "saddle": "optimizers", "himmelblau": "optimizers", "lr_sweep": "training",
         "plot_history": "training", "gradient_flow": "training",
         "compare_gradient_flow": "training", "GradientRecorder": "training",
         "record_gradient_norms": "training", "plot_decision_boundary": "decision",
         "plot_hidden_representation": "decision", "hidden_activations": "decision"}

__all__ = ["Graph", "draw_graph"] + list(_LAZY)
