// The header's selects, the data column's sliders and thumbnails: they show the server's
// settings and turn the user's changes into `set` messages.

import { activationName } from "./network-view.js";
import { classColor, signedColor } from "./heatmap.js";

const OPTIMIZER_NAMES = {
  sgd: "SGD", momentum: "SGD + momentum", nesterov: "Nesterov", adagrad: "Adagrad", rmsprop: "RMSProp", adam: "Adam",
};
const INIT_NAMES = { uniform: "Uniform (original)", xavier: "Xavier / Glorot", he: "He / Kaiming", zeros: "Zeros (symmetry)" };
const DATASET_NAMES = {
  circle: "Circle", xor: "XOR", gauss: "Gaussian", spiral: "Spiral", blobs: "Blobs", spirals: "k spirals",
  plane: "Plane", multigauss: "Multi Gaussian", user: "Your data",
};

// Settings edited by a control whose id is the setting's name.
const SELECTS = ["learning_rate", "regularization", "regularization_rate", "problem", "optimizer", "loss", "init"];
const NUMBER_INPUTS = ["momentum", "beta1", "beta2", "alpha", "eps", "epochs_per_frame", "seed"];
const SLIDERS = { train_ratio: (v) => `${v}%`, noise: String, batch_size: String, classes: String, samples: String };
const CHECKBOXES = ["show_test_data", "discretize", "residual"];
const NUMERIC = new Set(["learning_rate", "regularization_rate"]);

const byId = (id) => document.getElementById(id);

/** A small deterministic generator, so the thumbnails look the same on every load. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function gaussian(rand) {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

/** Points that suggest each dataset's shape: [x1, x2, label], label a class or a value in [-1, 1]. */
function previewPoints(name) {
  const rand = prng(7);
  const points = [];
  const u = () => rand() * 12 - 6;
  if (name === "circle") {
    for (let i = 0; i < 120; i++) {
      const inner = i % 2 === 0;
      const r = inner ? rand() * 2.5 : 3.5 + rand() * 1.5;
      const a = rand() * 2 * Math.PI;
      points.push([r * Math.cos(a), r * Math.sin(a), inner ? 1 : 0]);
    }
  } else if (name === "xor") {
    for (let i = 0; i < 140; i++) {
      const x = u(); const y = u();
      points.push([x, y, x * y >= 0 ? 1 : 0]);
    }
  } else if (name === "gauss") {
    for (let i = 0; i < 120; i++) {
      const c = i % 2 ? 2 : -2;
      points.push([c + gaussian(rand), c + gaussian(rand), i % 2]);
    }
  } else if (name === "spiral" || name === "spirals") {
    const arms = name === "spiral" ? 2 : 3;
    for (let i = 0; i < 150; i++) {
      const arm = i % arms;
      const t = (rand() * 5.5) ;
      const a = 1.75 * t + (2 * Math.PI * arm) / arms;
      points.push([t * Math.sin(a), t * Math.cos(a), arm]);
    }
  } else if (name === "blobs") {
    for (let i = 0; i < 150; i++) {
      const k = i % 3;
      const a = (2 * Math.PI * k) / 3 + 0.5;
      points.push([3.2 * Math.cos(a) + gaussian(rand) * 0.9, 3.2 * Math.sin(a) + gaussian(rand) * 0.9, k]);
    }
  } else if (name === "plane") {
    for (let i = 0; i < 140; i++) {
      const x = u(); const y = u();
      points.push([x, y, (x + y) / 12]);
    }
  } else if (name === "multigauss") {
    const centres = [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]];
    for (let i = 0; i < 140; i++) {
      const x = u(); const y = u();
      let v = 0;
      for (const [cx, cy, s] of centres) v += s * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 2);
      points.push([x, y, Math.max(-1, Math.min(1, 1.8 * v))]);
    }
  }
  return points;
}

export function drawThumbnail(canvas, points, regression) {
  const ctx = canvas.getContext("2d");
  const { width } = canvas;
  ctx.fillStyle = "#fafafa";
  ctx.fillRect(0, 0, width, width);
  for (const [x1, x2, label] of points) {
    ctx.beginPath();
    ctx.arc(((x1 + 6) / 12) * width, ((6 - x2) / 12) * width, width / 40, 0, 2 * Math.PI);
    ctx.fillStyle = regression ? signedColor(label) : classColor(label);
    ctx.fill();
  }
}

export class Controls {
  /** `onSet(partialSettings)` sends a `set`; `onCommand(type)` sends a bare command. */
  constructor({ onSet, onCommand, onPageChange }) {
    this.onSet = onSet;
    this.onCommand = onCommand;
    this.onPageChange = onPageChange;
    this.settings = null;
    this.datasets = { classification: [], regression: [] };
    this.pointClass = 1;
    this.classes = 2;
    this.bind();
  }

  bind() {
    for (const id of SELECTS) {
      byId(id).addEventListener("change", (e) => {
        const value = NUMERIC.has(id) ? Number(e.target.value) : e.target.value;
        this.onSet({ [id]: value });
      });
    }
    for (const id of NUMBER_INPUTS) {
      byId(id).addEventListener("change", (e) => {
        const value = Number(e.target.value);
        if (e.target.value === "" || !Number.isFinite(value)) {
          this.render(this.settings);
          return;
        }
        this.onSet({ [id]: value });
      });
    }
    for (const [id, format] of Object.entries(SLIDERS)) {
      const input = byId(id);
      input.addEventListener("input", () => { byId(`${id}-value`).textContent = format(input.value); });
      input.addEventListener("change", () => this.onSet({ [id]: Number(input.value) }));
    }
    for (const id of CHECKBOXES) byId(id).addEventListener("change", (e) => this.onSet({ [id]: e.target.checked }));
    byId("activation").addEventListener("change", (e) => {
      const activation = e.target.value;
      this.preferredActivation = activation;
      if (this.settings.layers.length) this.onSet({ layers: this.settings.layers.map((l) => ({ ...l, activation })) });
    });
    byId("regenerate").addEventListener("click", () => this.onCommand("regenerate"));
    byId("reset-button").addEventListener("click", () => this.onCommand("reset"));
    byId("step-button").addEventListener("click", () => this.onCommand("step"));
    byId("play-button").addEventListener("click", () => this.onCommand(this.playing ? "pause" : "play"));
    byId("extended").addEventListener("change", (e) => this.onPageChange({ extended: e.target.checked }));
    byId("point-value").addEventListener("input", (e) => { byId("point-value-label").textContent = Number(e.target.value).toFixed(1); });
  }

  /** Fill the selects from the server's `hello.choices`. */
  setup(choices) {
    const fill = (id, values, label = String) => {
      const select = byId(id);
      select.innerHTML = "";
      for (const v of values) select.add(new Option(label(v), v));
    };
    fill("learning_rate", choices.learning_rate);
    fill("regularization_rate", choices.regularization_rate);
    fill("activation", choices.activations, activationName);
    fill("optimizer", choices.optimizers, (o) => OPTIMIZER_NAMES[o] || o);
    fill("init", choices.inits, (i) => INIT_NAMES[i] || i);
    this.datasets = choices.datasets;
    this.builtDatasets = "";
  }

  buildDatasets(settings, userPoints) {
    const group = this.datasets[settings.problem] || [];
    const names = [...group.filter((d) => d !== "user"), "user"];
    const key = `${settings.problem}`;
    const container = byId("datasets");
    if (this.builtDatasets !== key) {
      this.builtDatasets = key;
      container.innerHTML = "";
      for (const name of names) {
        const button = document.createElement("button");
        button.className = "dataset";
        button.dataset.dataset = name;
        button.title = DATASET_NAMES[name] || name;
        button.setAttribute("aria-label", `Dataset: ${DATASET_NAMES[name] || name}`);
        const canvas = document.createElement("canvas");
        canvas.width = 120;
        canvas.height = 120;
        button.appendChild(canvas);
        const caption = document.createElement("span");
        caption.className = "name";
        caption.textContent = DATASET_NAMES[name] || name;
        button.appendChild(caption);
        if (name === "user") this.userThumbnail = canvas;
        else drawThumbnail(canvas, previewPoints(name), settings.problem === "regression");
        button.addEventListener("click", () => {
          if (name === "user") {
            if (settings.dataset !== "user") this.onSet({ dataset: "user" });
          } else this.onSet({ dataset: name });
        });
        container.appendChild(button);
      }
    }
    for (const button of container.querySelectorAll(".dataset")) {
      button.classList.toggle("selected", button.dataset.dataset === settings.dataset);
    }
    if (this.userThumbnail && userPoints) drawThumbnail(this.userThumbnail, userPoints, settings.problem === "regression");
  }

  /** Show a full settings object. */
  render(settings, { force = false } = {}) {
    this.settings = settings;
    for (const id of [...SELECTS, ...NUMBER_INPUTS]) {
      const el = byId(id);
      const value = String(settings[id]);
      if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === value)) el.add(new Option(value, value));
      // Don't overwrite what the user is typing, unless the server refused it.
      if (force || document.activeElement !== el) el.value = value;
    }
    for (const [id, format] of Object.entries(SLIDERS)) {
      byId(id).value = settings[id];
      byId(`${id}-value`).textContent = format(settings[id]);
    }
    for (const id of CHECKBOXES) byId(id).checked = settings[id];
    const activations = new Set(settings.layers.map((l) => l.activation));
    const activation = byId("activation");
    const mixed = activation.querySelector('option[value="mixed"]');
    if (activations.size > 1) {
      if (!mixed) activation.add(new Option("Mixed", "mixed", false, false));
      activation.value = "mixed";
      activation.querySelector('option[value="mixed"]').disabled = true;
    } else {
      if (mixed) mixed.remove();
      activation.value = activations.size ? [...activations][0] : (this.preferredActivation || "tanh");
    }
    const classification = settings.problem === "classification";
    byId("loss").querySelector('option[value="cross_entropy"]').disabled = !classification;
    byId("classes-slider").hidden = !["blobs", "spirals"].includes(settings.dataset);
    for (const el of document.querySelectorAll(".hyper")) {
      el.hidden = !el.dataset.for.split(" ").includes(settings.optimizer);
    }
  }

  setPlaying(playing) {
    this.playing = playing;
    document.body.classList.toggle("playing", playing);
    byId("play-button").setAttribute("aria-label", playing ? "Pause" : "Play");
  }

  /** The chips that pick the class of points added by clicking. */
  renderClassPicker(problem, classes) {
    const regression = problem === "regression";
    byId("value-picker").hidden = !regression;
    const picker = byId("class-picker");
    picker.hidden = regression;
    if (regression) return;
    this.classes = classes;
    // pointClass === classes is the "+" chip: the next click adds the first point of a new class.
    if (this.pointClass > classes || (this.pointClass === classes && classes >= 8)) this.pointClass = classes - 1;
    picker.innerHTML = "";
    for (let k = 0; k < classes; k++) {
      const chip = document.createElement("button");
      chip.className = `class-chip${k === this.pointClass ? " selected" : ""}`;
      chip.style.background = classColor(k);
      chip.textContent = k;
      chip.title = `Add points of class ${k}`;
      chip.addEventListener("click", () => {
        this.pointClass = k;
        this.renderClassPicker(problem, classes);
      });
      picker.appendChild(chip);
    }
    if (classes < 8) {
      const add = document.createElement("button");
      add.className = `class-chip add${this.pointClass === classes ? " selected" : ""}`;
      add.textContent = "+";
      add.title = "Add points of a new class";
      add.addEventListener("click", () => {
        this.pointClass = classes;
        this.renderClassPicker(problem, classes);
      });
      picker.appendChild(add);
    }
  }

  /** The label a click on the output adds: the chosen class, or with shift another one. */
  pointLabel(problem, shift) {
    if (problem === "regression") {
      const value = Number(byId("point-value").value);
      return shift ? -value : value;
    }
    const k = this.pointClass;
    if (!shift) return k;
    if (this.classes <= 2) return k === 1 ? 0 : 1;
    return (k + 1) % this.classes;
  }

  get addToTest() {
    return byId("add-to-test").checked;
  }
}
