"""Matplotlib access for cr.viz: figures are built with ``matplotlib.figure.Figure`` directly
(rendered by the Agg canvas), never through pyplot, so importing cr.viz changes no global backend
and works on machines without a display."""
import io
import os

from ..io.serialization import atomic_write_bytes


def matplotlib():
    """Import matplotlib, or explain how to install it."""
    try:
        import matplotlib as mpl
    except ImportError:
        raise ImportError("chainrule.viz needs matplotlib: pip install 'chainrule[viz]'") from None
    return mpl


def new_figure(width=6.4, height=4.8, dpi=100):
    matplotlib()
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def figure_png(fig, dpi=None):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def write_atomic(path, data):
    """Write bytes or text (UTF-8) to ``path`` atomically (``cr.io.atomic_write_bytes``: a
    temporary file, fsync and rename); returns the path as a string."""
    path = os.fspath(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    atomic_write_bytes(path, data)
    return path


def save_figure(fig, path, dpi=None):
    """Save a figure in the format named by the path's suffix (png, svg, pdf), atomically."""
    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    return write_atomic(path, buf.getvalue())


class Plot:
    """What every cr.viz plotting function returns: the matplotlib ``figure`` plus the numbers it
    shows (attributes set by each function). Shown inline in Jupyter; ``save(path)`` writes it."""

    def __init__(self, figure, **data):
        self.figure = figure
        self.__dict__.update(data)

    def save(self, path, dpi=None):
        return save_figure(self.figure, path, dpi=dpi)

    def png(self, dpi=None):
        return figure_png(self.figure, dpi=dpi)

    def _repr_png_(self):
        return self.png()

    def __repr__(self):
        fields = ", ".join(k for k in self.__dict__ if k != "figure")
        return f"<{type(self).__name__} with figure and {fields}>"
