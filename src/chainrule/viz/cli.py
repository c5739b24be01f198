"""``chainrule plot ...``: draw the lecture's pictures from the command line.

    chainrule plot activations --out activations.png
    chainrule plot race --function rosenbrock --out race.png --gif race.gif
    chainrule plot graph --example neuron --out neuron.svg
    chainrule plot boundary | spirals | regression | hidden | history | lr-sweep
                   | gradient-flow | gradient-comparison --out picture.png

Each picture comes from a recipe in ``chainrule.viz.gallery`` (also used by the gallery).
"""
import click

GRAPH_EXAMPLES = {"lecture": "lecture_graph", "neuron": "neuron_graph", "mlp": "mlp_graph"}
TRAINING = {"boundary": "decision_xor", "spirals": "decision_spirals",
            "regression": "decision_regression", "hidden": "hidden_xor", "history": "history",
            "lr-sweep": "lr_sweep", "gradient-flow": "gradient_flow",
            "gradient-comparison": "gradient_flow_comparison"}


def _gallery():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.ClickException("'chainrule plot' needs matplotlib: "
                                   "pip install 'chainrule[viz]'") from None
    from . import gallery
    return gallery


def _done(path):
    click.echo(f"wrote {path}")


@click.group(help="Draw teaching pictures from real chainrule computations.")
def plot():
    pass


@plot.command(help="Activation functions and their autograd derivatives.")
@click.option("--names", default=None, help="comma-separated, e.g. sigmoid,tanh,relu")
@click.option("--out", default="activations.png", show_default=True)
def activations(names, out):
    _gallery()
    from .activations import plot_activations
    p = plot_activations(names.split(",") if names else None)
    _done(p.save(out))


@plot.command(help="Optimisers racing across a 2-D function (contour PNG, optional GIF).")
@click.option("--function", "function", default="rosenbrock", show_default=True,
              type=click.Choice(["rosenbrock", "bowl", "saddle", "beale", "himmelblau"]))
@click.option("--steps", type=int, default=None, help="steps per optimiser (default: per function)")
@click.option("--out", default="race.png", show_default=True)
@click.option("--gif", default=None, help="also write an animated GIF here")
def race(function, steps, out, gif):
    g = _gallery()
    from .optimizers import optimizer_race
    surface, default_steps, specs = g.RACES[function]
    r = optimizer_race(surface, specs, steps=steps or default_steps)
    _done(r.save(out))
    if gif:
        _done(r.save_gif(gif))
    for label, traj in r.trajectories.items():
        click.echo(f"  {label:10s} ends at ({traj[-1][0]:.4g}, {traj[-1][1]:.4g})")


@plot.command(help="A computational graph with values and gradients (SVG, PNG or DOT).")
@click.option("--example", default="lecture", show_default=True,
              type=click.Choice(sorted(GRAPH_EXAMPLES)))
@click.option("--engine", default="auto", show_default=True,
              type=click.Choice(["auto", "dot", "python"]))
@click.option("--out", default="graph.svg", show_default=True)
def graph(example, engine, out):
    from . import gallery
    _done(getattr(gallery, GRAPH_EXAMPLES[example])(engine=engine).save(out))


def _training_command(name, recipe):
    @plot.command(name=name, help=f"The gallery's '{name}' picture "
                  f"(chainrule.viz.gallery.{recipe}).")
    @click.option("--out", default=f"{name}.png", show_default=True)
    @click.option("--quick", is_flag=True, help="smaller data, fewer steps")
    def command(out, quick):
        g = _gallery()
        _done(getattr(g, recipe)(quick=quick).save(out))
    return command


for _name, _recipe in TRAINING.items():
    _training_command(_name, _recipe)
