"""Teaching pictures drawn from real computations (the ``viz`` extra: matplotlib and pillow).

``draw_graph`` needs no matplotlib when Graphviz is installed; everything else builds
``matplotlib.figure.Figure`` objects directly (Agg canvas, no pyplot), so nothing here changes
global plotting state. The core never imports this package.
"""
from .graph import Graph, draw_graph

__all__ = ["Graph", "draw_graph"]
