"""Drawing a graph to text and pixels: the DOT source and Graphviz's ``dot``, or, with the
built-in layout, SVG text written directly and PNG drawn with matplotlib."""
import html
import subprocess

from .graph_layout import LINE_H
from .graph_node import label_lines

FILL = {"leaf": "#e3f2fd", "param": "#fff3e0", "op": "#f5f5f5", "group": "#ede7f6",
        "more": "#ffffff"}
STROKE = {"leaf": "#1e88e5", "param": "#fb8c00", "op": "#616161", "group": "#5e35b1",
          "more": "#9e9e9e"}


def to_dot(graph):
    """The DOT source of a drawn graph: HTML labels, one edge per use of a tensor."""
    out = ["digraph chainrule {", '  rankdir=LR; bgcolor="white";',
           '  node [fontname="Helvetica", fontsize=11, margin="0.12,0.05"];',
           '  edge [color="#78909c", arrowsize=0.7];']
    if graph.title:
        out.append(f'  label="{graph.title}"; labelloc=t; fontname="Helvetica";')
    for n in graph.nodes:
        rows = []
        for text, colour, bold in label_lines(n):
            t = html.escape(text)
            t = f"<b>{t}</b>" if bold else t
            rows.append(f'<font color="{colour}">{t}</font>')
        shape = "box" if n.kind in ("leaf", "param", "group", "more") else "ellipse"
        style = "rounded,filled" if shape == "box" else "filled"
        if n.kind == "more":
            style += ",dashed"
        pen = 2.2 if n.root else 1.0
        out.append(f'  {n.id} [shape={shape}, style="{style}", fillcolor="{FILL[n.kind]}", '
                   f'color="{STROKE[n.kind]}", penwidth={pen}, label=<{"<br/>".join(rows)}>];')
    for a, b in graph.edges:
        out.append(f"  {a} -> {b};")
    out.append("}")
    return "\n".join(out) + "\n"


def run_dot(source, fmt, dpi=None):
    """Graphviz's ``dot`` run on ``source``: the bytes of the drawing in format ``fmt``."""
    cmd = ["dot", f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if dpi else [])
    res = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True, timeout=60)
    if res.returncode != 0:
        raise RuntimeError(f"draw_graph: dot -T{fmt} failed: {res.stderr.decode()[:500]}")
    return res.stdout


def _smooth_path(pts):
    """SVG path through the points: horizontal-tangent cubic curves between them."""
    d = [f"M {pts[0][0]:.1f} {pts[0][1]:.1f}"]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        mx = (x0 + x1) / 2
        d.append(f"C {mx:.1f} {y0:.1f} {mx:.1f} {y1:.1f} {x1:.1f} {y1:.1f}")
    return " ".join(d)


def render_svg(graph, lay):
    """SVG text of a drawn graph placed by ``lay`` (a ``graph_layout.Layout``)."""
    title_h = 22.0 if graph.title else 0.0
    w, h = lay.width, lay.height + title_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
           f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="Helvetica, Arial, sans-serif" '
           f'font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="#78909c"/>'
           '</marker></defs>',
           f'<rect width="{w:.0f}" height="{h:.0f}" fill="white"/>']
    if graph.title:
        out.append(f'<text x="{w / 2:.1f}" y="16" text-anchor="middle" font-size="13">'
                   f'{html.escape(graph.title)}</text>')
    out.append(f'<g transform="translate(0 {title_h:.0f})">')
    for pts in lay.routes:
        out.append(f'<path d="{_smooth_path(pts)}" fill="none" stroke="#78909c" '
                   f'stroke-width="1.2" marker-end="url(#arrow)"/>')
    for n in graph.nodes:
        x, y, bw, bh = lay.pos[n.id]
        rx = bh / 2 if n.kind == "op" else 6
        dash = ' stroke-dasharray="4 3"' if n.kind == "more" else ""
        out.append(f'<rect x="{x - bw / 2:.1f}" y="{y - bh / 2:.1f}" width="{bw:.1f}" '
                   f'height="{bh:.1f}" rx="{rx:.1f}" fill="{FILL[n.kind]}" '
                   f'stroke="{STROKE[n.kind]}" stroke-width="{2.2 if n.root else 1}"{dash}/>')
        lines = label_lines(n)
        top = y - len(lines) * LINE_H / 2 + LINE_H * 0.75
        for j, (text, colour, bold) in enumerate(lines):
            weight = ' font-weight="bold"' if bold else ""
            out.append(f'<text x="{x:.1f}" y="{top + j * LINE_H:.1f}" text-anchor="middle" '
                       f'fill="{colour}"{weight}>{html.escape(text)}</text>')
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def render_png(graph, lay, dpi=110):
    """PNG bytes of a drawn graph placed by ``lay``, drawn with matplotlib."""
    from ._figure import figure_png, new_figure
    from matplotlib.patches import FancyBboxPatch, PathPatch, Polygon
    from matplotlib.path import Path

    title_h = 22.0 if graph.title else 0.0
    w, h = lay.width, lay.height + title_h
    px = 72.0   # layout units are points
    fig = new_figure(w / px, h / px, dpi=dpi)
    fig.set_layout_engine(None)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    if graph.title:
        ax.text(w / 2, 12, graph.title, ha="center", va="center", fontsize=10)
    for pts in lay.routes:
        pts = [(x, y + title_h) for x, y in pts]
        verts, codes = [pts[0]], [Path.MOVETO]
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            mx = (x0 + x1) / 2
            verts += [(mx, y0), (mx, y1), (x1, y1)]
            codes += [Path.CURVE4] * 3
        ax.add_patch(PathPatch(Path(verts, codes), fill=False, edgecolor="#78909c", lw=1.0))
        x1, y1 = pts[-1]
        ax.add_patch(Polygon([(x1, y1), (x1 - 7, y1 - 3.5), (x1 - 7, y1 + 3.5)],
                             closed=True, color="#78909c"))
    for n in graph.nodes:
        x, y, bw, bh = lay.pos[n.id]
        y += title_h
        r = min(bh / 2, bw / 2) if n.kind == "op" else 6
        ax.add_patch(FancyBboxPatch((x - bw / 2 + r, y - bh / 2 + r), bw - 2 * r, bh - 2 * r,
                                    boxstyle=f"round,pad={r}", facecolor=FILL[n.kind],
                                    edgecolor=STROKE[n.kind], lw=2.0 if n.root else 0.9,
                                    linestyle="--" if n.kind == "more" else "-"))
        lines = label_lines(n)
        top = y - len(lines) * LINE_H / 2 + LINE_H / 2
        for j, (text, colour, bold) in enumerate(lines):
            ax.text(x, top + j * LINE_H, text, ha="center", va="center", fontsize=9.5,
                    color=colour, fontweight="bold" if bold else "normal")
    return figure_png(fig)
