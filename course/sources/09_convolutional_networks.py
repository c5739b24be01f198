# %% [markdown]
# # 9. Convolutional networks
#
# A **convolution** slides a small **filter** (kernel) over the image and, at each position,
# takes the dot product of the filter with the patch under it: one **feature map** per filter.
# The same weights are used at every position (**weight sharing**), so a filter detects its
# pattern anywhere. **Max pooling** keeps the largest value of each window, shrinking the map
# and making it tolerant to small shifts. **LeNet-5** stacks conv → pool → conv → pool → fully
# connected layers.

# %%
import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from course_helpers import pick, load_digits
import matplotlib.pyplot as plt

cr.manual_seed(0)

# %% [markdown]
# ## Convolution by hand on a small image
# A 6×6 image with a vertical edge, and the vertical-edge filter $[[1, 0, -1]] \times 3$.
# Output size: $(6 - 3)/1 + 1$ per side, without padding.

# %%
image = np.zeros((6, 6), np.float32)
image[:, :3] = 10.0
kernel = np.array([[1, 0, -1]] * 3, np.float32)
out_size = (image.shape[0] - kernel.shape[0]) // 1 + 1
by_hand = np.zeros((out_size, out_size), np.float32)
for i in range(out_size):
    for j in range(out_size):
        by_hand[i, j] = (image[i:i + 3, j:j + 3] * kernel).sum()
print("by hand:\n", by_hand)
conv = F.conv2d(cr.from_numpy(image)[None, None], cr.from_numpy(kernel)[None, None])
print("F.conv2d equals it:", np.array_equal(conv.numpy()[0, 0], by_hand))

# %% [markdown]
# ## Max pooling by hand (2×2 windows, stride 2)

# %%
pooled = by_hand.reshape(out_size // 2, 2, out_size // 2, 2).max(axis=(1, 3))
print("by hand:\n", pooled)
print("F.max_pool2d equals it:", np.array_equal(F.max_pool2d(conv, 2).numpy()[0, 0], pooled))

# %% [markdown]
# ## LeNet-5 on real digits
# Trained on the first images of MNIST's test set, evaluated on its last images (the course
# data; synthetic digits where they are absent).

# %%
X_train, y_train, X_test, y_test, source = load_digits(pick(4000, 300), pick(1000, 200))
print(f"{source}: {len(X_train)} training and {len(X_test)} test images of shape {tuple(X_train.shape[1:])}")
lenet = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
nn.summary(lenet, (1, 1, 28, 28))

# %%
history = cr.train.fit(lenet, nn.CrossEntropyLoss(), cr.optim.Adam(lenet.parameters(), lr=2e-3),
                       (X_train, y_train), val_data=(X_test, y_test), epochs=pick(3, 1),
                       batch_size=64, metrics=["accuracy"])
print(f"test accuracy: {history['val_accuracy'][-1]:.3f}")

# %% [markdown]
# ## The learned filters and the feature maps of one digit

# %%
filters = lenet[0].weight.detach().numpy()[:, 0]
with cr.no_grad():
    maps = lenet[1](lenet[0](X_test[:1])).numpy()[0]
fig, axes = plt.subplots(2, 7, figsize=(9, 2.8))
axes[0, 0].imshow(X_test[0, 0].numpy(), cmap="gray")
axes[0, 0].set_title("input", fontsize=8)
axes[1, 0].axis("off")
for k in range(6):
    axes[0, k + 1].imshow(filters[k], cmap="RdBu")
    axes[0, k + 1].set_title(f"filter {k}", fontsize=8)
    axes[1, k + 1].imshow(maps[k], cmap="gray")
    axes[1, k + 1].set_title(f"map {k}", fontsize=8)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %% [markdown]
# ## Try this
# * Transpose `kernel` to detect horizontal edges: rotate `image` too and compare.
# * Add `padding=1` to `F.conv2d`: the output is as large as the input.
# * Remove the pooling layers from LeNet (and fix the Linear's input size with `nn.summary`):
#   the parameter count jumps.
# * Train for more epochs and plot `cr.viz.plot_history(history)`.
