# %% [markdown]
# # 12. The Playground
#
# The Playground is the lecture's interactive demo: pick a 2-D dataset, features, layers,
# activation, learning rate, regularisation, and watch the network train — the decision
# boundary, each neuron's picture, the loss curves and the gradient flow. It runs chainrule in a
# local server:
#
# ```
# chainrule playground --open
# ```
#
# Every setting lives in the page's URL, so each experiment below is a **link**: start the
# server, then open the link. Each comes with what to look for — and the same experiment run
# here, headless, with the Playground's own training code, so the numbers are the ones the page
# will show after the same number of epochs (the page's test loss and accuracy).

# %%
from chainrule.playground.presets import PRESETS
from chainrule.playground.session import Session
from course_helpers import pick, playground_link

EPOCHS = pick(100, 10)


CHUNK = max(1, EPOCHS // 10)
curves = {}    # title -> test loss every CHUNK epochs, for the picture at the end


def run_headless(title, preset=None, **changes):
    settings = dict(PRESETS[preset]["settings"]) if preset else {}
    settings.update(changes)
    session = Session(settings)
    curves[title] = [session.frame()["test_loss"]]
    for _ in range(EPOCHS // CHUNK):
        session.advance(epochs=CHUNK)
        curves[title].append(session.frame()["test_loss"])
    frame = session.frame()
    return frame["train_loss"], frame["test_loss"], frame["metrics"].get("test_accuracy")


def show(title, look_for, preset=None, **changes):
    train_loss, test_loss, accuracy = run_headless(title, preset, **changes)
    print(f"## {title}\n{playground_link(preset, **changes)}")
    print(f"look for: {look_for}")
    accuracy_text = f", test accuracy {accuracy:.3f}" if accuracy is not None else ""
    print(f"after {EPOCHS} epochs here: train loss {train_loss:.3f}, test loss {test_loss:.3f}{accuracy_text}\n")

# %% [markdown]
# ## The lecture's presets
# They come in pairs that make one point each (notebooks 1, 4 and 7 explain them).

# %%
LOOK_FOR = {
    "xor_without_product": "the hidden units' pictures: each draws one line; the output combines them.",
    "xor_with_product": "no hidden layer, yet a perfect boundary: the x1·x2 feature does the work.",
    "circle_no_hidden": "the boundary stays a straight line; the test loss stays high.",
    "circle_one_hidden": "three hidden lines close a triangle-like region around the disc.",
    "spiral_deep": "the boundary winds between the arms only with several layers.",
    "deep_sigmoid": "the gradient view: the first layers' gradient norm is orders of magnitude smaller.",
    "deep_relu": "the same depth trains quickly; the gradient norms stay close across layers.",
}
for name, preset in PRESETS.items():
    show(preset["title"], LOOK_FOR[name], preset=name)

# %% [markdown]
# ## More of the lecture's experiments, as links
# Changes on top of the default settings (circle data, two tanh layers).

# %%
layer = lambda units, activation="tanh", dropout=0: {"units": units, "activation": activation,
                                                     "dropout": dropout, "batchnorm": False}
show("Learning rate too large",
     "the loss jumps around or diverges; lower learning_rate in the URL and reload.",
     learning_rate=3, dataset="spiral")
show("Learning rate too small",
     "the boundary barely moves; the loss falls very slowly.", learning_rate=0.0001)
show("Overfitting on noisy data",
     "test loss rises while training loss falls; tick 'show test data'.",
     dataset="spiral", noise=50, train_ratio=20, layers=[layer(8)] * 4, learning_rate=0.03,
     optimizer="adam")
show("L2 regularisation against it",
     "a smoother boundary and a smaller gap between train and test loss.",
     dataset="spiral", noise=50, train_ratio=20, layers=[layer(8)] * 4, learning_rate=0.03,
     optimizer="adam", regularization="L2", regularization_rate=0.003)
show("Dropout",
     "the boundary flickers while training (units drop out) and the test loss stays closer to the training loss.",
     dataset="spiral", noise=50, train_ratio=20, layers=[layer(8, dropout=0.3)] * 4,
     learning_rate=0.03, optimizer="adam")
show("Zero initialisation",
     "every hidden unit's picture is identical: symmetry is never broken.", init="zeros")

# %% [markdown]
# ## The test-loss curves of every experiment above
# (the page draws the same curve, live, under its heat map; a gap in a line is a diverged run)

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 4))
for title, losses in curves.items():
    ax.plot([CHUNK * i for i in range(len(losses))], [float("nan") if v is None else v for v in losses],
            label=title)
ax.set_xlabel("epoch")
ax.set_ylabel("test loss")
ax.legend(fontsize=7, ncols=2)
plt.show()

# %% [markdown]
# ## Try this
# * Open a link, change one setting in the page, and copy the URL: it now holds your experiment.
# * In *XOR without x1·x2*, remove hidden units one at a time: how few still solve it?
# * In *Deep sigmoid*, switch the activation to ReLU without changing the initialisation: does it
#   train? Then set the initialisation to He.
# * Export any experiment as a Python script (Model panel) and run it: same numbers, no browser.
