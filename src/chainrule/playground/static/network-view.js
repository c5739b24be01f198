// The network drawn as playground.tensorflow.org draws it: a column of feature thumbnails, one
// column per hidden layer, the output units; links as curves whose width and colour show the
// weight, bias squares on each unit. Layer l of the protocol is column l here.

import { drawProbabilityMap, drawSignedMap, drawSignedValues, signedColor } from "./heatmap.js";
import { formatNumber } from "./charts.js";

export const FEATURES = [
  { id: "x1", label: "X<sub>1</sub>", text: "X1", f: (a) => a },
  { id: "x2", label: "X<sub>2</sub>", text: "X2", f: (a, b) => b },
  { id: "x1sq", label: "X<sub>1</sub><sup>2</sup>", text: "X1²", f: (a) => a * a },
  { id: "x2sq", label: "X<sub>2</sub><sup>2</sup>", text: "X2²", f: (a, b) => b * b },
  { id: "x1x2", label: "X<sub>1</sub>X<sub>2</sub>", text: "X1X2", f: (a, b) => a * b },
  { id: "sinx1", label: "sin(X<sub>1</sub>)", text: "sin(X1)", f: (a) => Math.sin(a) },
  { id: "sinx2", label: "sin(X<sub>2</sub>)", text: "sin(X2)", f: (a, b) => Math.sin(b) },
];

const ACTIVATION_NAMES = { relu: "ReLU", tanh: "Tanh", sigmoid: "Sigmoid", linear: "Linear", leakyrelu: "Leaky ReLU", elu: "ELU" };
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
const THUMB = 20;

export function activationName(id) {
  return ACTIVATION_NAMES[id] || id;
}

/** A feature's map computed on the page, so that disabled features still show what they are. */
function featureValues(feature, n) {
  const values = new Float32Array(n * n);
  let peak = 1;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const x1 = -6 + ((c + 0.5) * 12) / n;
      const x2 = 6 - ((r + 0.5) * 12) / n;
      const v = feature.f(x1, x2);
      values[r * n + c] = v;
      peak = Math.max(peak, Math.abs(v));
    }
  }
  return { values, peak };
}

function svgElement(name, attrs = {}) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function linkWidth(weight) {
  // The original's scale: |w| in [0, 5] -> 1..10 px, thinner here so dense layers stay legible.
  return 0.8 + (Math.min(Math.abs(weight), 5) / 5) * 7;
}

export class NetworkView {
  /**
   * `callbacks`: onToggleFeature(id), onLayersChange(layers), onEditWeight(address, value),
   * onEditBias(address, value), onSelectWeight(address), onHoverNode(layer, unit | null).
   */
  constructor(container, callbacks, { hovercard, popover }) {
    this.container = container;
    this.callbacks = callbacks;
    this.hovercard = hovercard;
    this.popover = popover;
    this.limits = { maxLayers: 6, maxUnits: 8 };
    this.activations = ["relu", "tanh", "sigmoid", "linear"];
    this.signature = "";
    this.settings = null;
    this.outputUnits = 1;
    this.frame = null;
    this.selected = null;
    this.playing = false;
    this.setupPopover();
  }

  setLimits(limits) {
    this.limits = limits;
    if (this.settings) this.build(this.settings, this.outputUnits);
  }

  setActivations(list) {
    this.activations = list;
  }

  /** Rebuild the drawing when the shape (features, layers, output units) changes. */
  render(settings, outputUnits) {
    this.settings = settings;
    this.outputUnits = outputUnits;
    if (this.signatureOf(settings, outputUnits) === this.signature) return;
    this.build(settings, outputUnits);
  }

  signatureOf(settings, outputUnits) {
    const width = this.container.parentElement?.clientWidth || 0;
    return JSON.stringify([settings.features, settings.layers, outputUnits, this.limits, width, !!settings.residual]);
  }

  layout(settings, outputUnits) {
    // Up to 8 units a column keeps the original's spacing; taller columns pack their units closer
    // (each column on its own, so 32 neurons don't squeeze the 7 features).
    const counts = [FEATURES.length, ...settings.layers.map((l) => l.units), outputUnits];
    const slots = counts.map((count) => (count <= 8 ? 50 : Math.max(13, Math.floor(400 / count))));
    const sizes = slots.map((slot) => Math.round(slot * 0.72));
    const node = sizes[0];
    const top = 50;
    const columnHeight = Math.max(...counts.map((count, l) => count * slots[l]));
    // Spread the columns over the width there is, as the original does, within reason.
    const available = this.container.parentElement?.clientWidth || 600;
    const spread = Math.floor((available - 66 - 2 * node - 40) / (counts.length - 1));
    const colWidth = Math.max(92, node + 56, Math.min(spread, 190));
    const centers = counts.map((_, l) => 66 + node / 2 + l * colWidth);
    const width = centers[centers.length - 1] + node / 2 + 30;
    const height = top + columnHeight + 78;
    return { slots, sizes, node, top, centers, width, height, columnHeight };
  }

  build(settings, outputUnits) {
    this.signature = this.signatureOf(settings, outputUnits);
    const geometry = this.layout(settings, outputUnits);
    this.geometry = geometry;
    const { slots, sizes, node, top, centers, width, height, columnHeight } = geometry;
    const root = this.container;
    // The nodes under the mouse are about to go: no mouseleave will come, so end any hover now
    // (else the output panel keeps showing a map of a unit that no longer exists).
    this.hideCard();
    this.callbacks.onHoverNode(null);
    root.innerHTML = "";
    root.style.width = `${width}px`;
    root.style.height = `${height}px`;
    // A network wider than its column (10 x 32) is scaled down to fit, never clipped.
    const available = (root.parentElement?.clientWidth || width) - 2;
    const scale = width > available ? available / width : 1;
    this.scale = scale;
    // zoom (not a transform) so the layout box shrinks too: no scroll bar, no clipped output.
    root.style.zoom = scale < 1 ? String(scale) : "";
    root.style.setProperty("--node", `${node}px`);

    this.svg = svgElement("svg", { class: "links", width, height });
    root.appendChild(this.svg);

    const enabled = FEATURES.filter((f) => settings.features.includes(f.id));
    // Column positions of every unit, per protocol layer: layer 0 = enabled features only.
    this.positions = [];
    this.canvases = [];
    this.biasSquares = [];

    // Features: every feature is shown, the enabled ones are layer 0's units.
    const featurePositions = [];
    const featureCanvases = [];
    FEATURES.forEach((feature, row) => {
      const y = top + row * slots[0];
      const on = settings.features.includes(feature.id);
      const label = document.createElement("div");
      label.className = `feature-label${on ? "" : " disabled"}`;
      label.innerHTML = feature.label;
      label.style.left = `${centers[0] - node / 2 - 62}px`;
      label.style.top = `${y + node / 2 - 8}px`;
      root.appendChild(label);
      const el = this.nodeElement(centers[0] - node / 2, y, node, `feature ${on ? "" : "disabled"}`);
      el.dataset.feature = feature.id;
      el.title = on ? `${feature.text} (click to turn off)` : `${feature.text} (click to turn on)`;
      el.addEventListener("click", () => {
        this.callbacks.onHoverNode(null);
        this.callbacks.onToggleFeature(feature.id);
      });
      const canvas = el.querySelector("canvas");
      const { values, peak } = featureValues(feature, THUMB);
      drawSignedValues(canvas, values, THUMB, peak);
      if (on) {
        const index = enabled.indexOf(feature);
        featurePositions[index] = { x: centers[0] - node / 2, y, size: node };
        featureCanvases[index] = canvas;
        el.addEventListener("mouseenter", () => this.callbacks.onHoverNode(0, index, feature.text));
        el.addEventListener("mouseleave", () => this.callbacks.onHoverNode(null));
      }
    });
    this.positions.push(featurePositions);
    this.canvases.push(featureCanvases);
    this.biasSquares.push([]);

    // Hidden layers and the output layer.
    const layerSizes = [...settings.layers.map((l) => l.units), outputUnits];
    layerSizes.forEach((count, index) => {
      const layer = index + 1;
      const isOutput = layer === layerSizes.length;
      const size = sizes[layer];
      const x = centers[layer] - size / 2;
      const positions = [];
      const canvases = [];
      const biases = [];
      for (let j = 0; j < count; j++) {
        const y = top + j * slots[layer];
        const el = this.nodeElement(x, y, size, isOutput ? "output-unit" : "neuron");
        el.dataset.layer = layer;
        el.dataset.unit = j;
        const name = isOutput ? (count > 1 ? `output: class ${j}` : "output") : `neuron ${j + 1} of layer ${layer}`;
        el.addEventListener("mouseenter", () => this.callbacks.onHoverNode(layer, j, name));
        el.addEventListener("mouseleave", () => this.callbacks.onHoverNode(null));
        const bias = document.createElement("div");
        bias.className = "bias";
        bias.addEventListener("mouseenter", (e) => this.showCard(e, () => `Bias ${formatNumber(this.biasValue(layer, j))}`));
        bias.addEventListener("mousemove", (e) => this.moveCard(e));
        bias.addEventListener("mouseleave", () => this.hideCard());
        bias.addEventListener("click", (e) => {
          e.stopPropagation();
          this.openEditor(e, `Bias of ${name}`, this.biasValue(layer, j), (value) =>
            this.callbacks.onEditBias({ layer, unit: j }, value));
        });
        el.appendChild(bias);
        positions.push({ x, y, size });
        canvases.push(el.querySelector("canvas"));
        biases.push(bias);
      }
      this.positions.push(positions);
      this.canvases.push(canvases);
      this.biasSquares.push(biases);
      if (isOutput) {
        const label = document.createElement("div");
        label.className = "output-label";
        label.textContent = count > 1 ? `${count} classes` : "output";
        label.style.left = `${centers[layer] - 40}px`;
        label.style.width = "80px";
        label.style.top = `${top - 20}px`;
        root.appendChild(label);
      } else {
        this.layerHead(settings, index, centers[layer], count);
        this.layerFoot(settings, index, centers[layer], top + columnHeight + 2);
      }
    });

    this.buildLinks();
    this.buildSkips(settings);
    if (this.frame) this.update(this.frame);
  }

  nodeElement(x, y, size, kind) {
    const el = document.createElement("div");
    el.className = `node ${kind}`;
    el.style.left = `${x}px`;
    el.style.top = `${y}px`;
    el.style.width = `${size}px`;
    el.style.height = `${size}px`;
    if (size < 16) el.classList.add("tiny");
    const canvas = document.createElement("canvas");
    canvas.width = THUMB;
    canvas.height = THUMB;
    el.appendChild(canvas);
    this.container.appendChild(el);
    return el;
  }

  layerHead(settings, index, centerX, count) {
    const head = document.createElement("div");
    head.className = "layer-head";
    const canAdd = count < this.limits.maxUnits;
    const canRemove = count > 1;
    head.innerHTML = `<div class="buttons">
        <button class="round tiny add-neuron" title="Add a neuron" aria-label="Add neuron to layer ${index + 1}" ${canAdd ? "" : "disabled"}>+</button>
        <button class="round tiny remove-neuron" title="Remove a neuron" aria-label="Remove neuron from layer ${index + 1}" ${canRemove ? "" : "disabled"}>−</button>
      </div><span class="neuron-count">${count} neuron${count === 1 ? "" : "s"}</span>`;
    this.container.appendChild(head);
    head.style.left = `${centerX - 44}px`;
    head.style.width = "88px";
    head.querySelector(".add-neuron").addEventListener("click", () => this.changeUnits(index, +1));
    head.querySelector(".remove-neuron").addEventListener("click", () => this.changeUnits(index, -1));
  }

  layerFoot(settings, index, centerX, y) {
    const layer = settings.layers[index];
    const foot = document.createElement("div");
    foot.className = "layer-foot";
    foot.style.left = `${centerX - 44}px`;
    foot.style.width = "88px";
    foot.style.top = `${y}px`;
    const activation = document.createElement("select");
    activation.className = "layer-activation";
    activation.title = `Activation of layer ${index + 1}`;
    for (const a of this.activations) activation.add(new Option(activationName(a), a, false, a === layer.activation));
    activation.addEventListener("change", () => this.changeLayer(index, { activation: activation.value }));
    const dropout = document.createElement("select");
    dropout.className = "layer-dropout";
    dropout.title = `Dropout of layer ${index + 1}`;
    const choices = DROPOUTS.includes(layer.dropout) ? DROPOUTS : [...DROPOUTS, layer.dropout].sort();
    for (const p of choices) dropout.add(new Option(`drop ${Math.round(p * 100)}%`, p, false, p === layer.dropout));
    dropout.addEventListener("change", () => this.changeLayer(index, { dropout: Number(dropout.value) }));
    const bn = document.createElement("label");
    bn.className = "bn";
    bn.title = "Batch normalisation after the linear map (resets the network)";
    bn.innerHTML = `<input type="checkbox" ${layer.batchnorm ? "checked" : ""}>batch norm`;
    bn.querySelector("input").addEventListener("change", (e) => this.changeLayer(index, { batchnorm: e.target.checked }));
    foot.append(activation, dropout, bn);
    this.container.appendChild(foot);
  }

  copyLayers() {
    return this.settings.layers.map((l) => ({ ...l }));
  }

  changeUnits(index, delta) {
    const layers = this.copyLayers();
    const units = layers[index].units + delta;
    if (units < 1 || units > this.limits.maxUnits) return;
    layers[index].units = units;
    this.callbacks.onLayersChange(layers);
  }

  changeLayer(index, patch) {
    const layers = this.copyLayers();
    Object.assign(layers[index], patch);
    this.callbacks.onLayersChange(layers);
  }

  /** Residual connections: an orange dashed arc from each unit to the same unit one layer on. */
  buildSkips(settings) {
    const layers = settings.layers;
    layers.forEach((layer, i) => {
      if (!settings.residual || i === 0 || layer.units !== layers[i - 1].units) return;
      const from = this.positions[i];
      const to = this.positions[i + 1];
      from.forEach((a, j) => {
        const b = to[j];
        const x0 = a.x + a.size / 2;
        const x1 = b.x + b.size / 2;
        const y = a.y;
        const d = `M${x0},${y} Q${(x0 + x1) / 2},${y - a.size * 0.6} ${x1},${b.y}`;
        this.svg.append(svgElement("path", { d, class: "skip", stroke: "#ef6c00", "stroke-width": 1.6, "stroke-dasharray": "4 3", fill: "none" }));
      });
    });
  }

  buildLinks() {
    this.links = [];
    for (let layer = 1; layer < this.positions.length; layer++) {
      const rows = [];
      this.positions[layer].forEach((to, j) => {
        const row = [];
        this.positions[layer - 1].forEach((from, i) => {
          const x0 = from.x + from.size;
          const y0 = from.y + from.size / 2;
          const x1 = to.x;
          const y1 = to.y + to.size / 2;
          const mid = (x0 + x1) / 2;
          const d = `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`;
          const path = svgElement("path", { d, class: "link", stroke: "#ccc", "stroke-width": 1 });
          const hit = svgElement("path", { d, class: "hit" });
          const address = { layer, to: j, from: i };
          hit.addEventListener("mouseenter", (e) => this.showCard(e, () => this.weightText(address)));
          hit.addEventListener("mousemove", (e) => this.moveCard(e));
          hit.addEventListener("mouseleave", () => this.hideCard());
          hit.addEventListener("click", (e) => {
            this.select(address);
            this.callbacks.onSelectWeight(address);
            this.openEditor(e, this.weightName(address), this.weightValue(address), (value) =>
              this.callbacks.onEditWeight(address, value));
          });
          this.svg.append(path, hit);
          row.push(path);
        });
        rows.push(row);
      });
      this.links.push(rows);
    }
    this.linkCount = this.links.flat(2).length;
    this.setPlaying(this.playing);
    if (this.selected) this.select(this.selected);
  }

  weightName({ layer, to, from }) {
    const source = layer === 1 ? FEATURES.filter((f) => this.settings.features.includes(f.id))[from]?.text : `unit ${from + 1}`;
    const target = layer === this.positions.length - 1 ? (this.outputUnits > 1 ? `class ${to}` : "output") : `neuron ${to + 1}`;
    return `Weight ${source} → ${target} (layer ${layer})`;
  }

  weightText(address) {
    return `${this.weightName(address)}: <b>${formatNumber(this.weightValue(address))}</b>`;
  }

  weightValue({ layer, to, from }) {
    return this.frame?.weights?.[layer - 1]?.[to]?.[from] ?? null;
  }

  biasValue(layer, unit) {
    return this.frame?.biases?.[layer - 1]?.[unit] ?? null;
  }

  select(address) {
    this.svg.querySelectorAll("path.link.selected").forEach((p) => p.classList.remove("selected"));
    this.selected = address;
    const path = address && this.links[address.layer - 1]?.[address.to]?.[address.from];
    if (path) path.classList.add("selected");
  }

  setPlaying(playing) {
    this.playing = playing;
    // The dashes that flow along the links cost a repaint per frame: only for modest networks.
    this.container.classList.toggle("flowing", playing && this.linkCount <= 300);
  }

  /** Draw one frame: every unit's map, every link's weight, every bias. */
  update(frame) {
    this.frame = frame;
    if (!this.canvases) return;
    const k = this.outputUnits;
    const last = this.canvases.length - 1;
    frame.nodes.forEach((maps, layer) => {
      const canvases = this.canvases[layer];
      if (!canvases) return;
      maps.forEach((grid, j) => {
        const canvas = canvases[j];
        if (!canvas) return;
        if (canvas.width !== frame.node_size) {
          canvas.width = frame.node_size;
          canvas.height = frame.node_size;
        }
        if (layer === last && k > 1) drawProbabilityMap(canvas, grid, frame.node_size, j);
        else drawSignedMap(canvas, grid, frame.node_size, { discretize: false });
      });
    });
    frame.weights.forEach((matrix, index) => {
      const rows = this.links[index];
      if (!rows) return;
      matrix.forEach((row, j) => row.forEach((w, i) => {
        const path = rows[j]?.[i];
        if (!path) return;
        const value = w ?? 0;
        path.setAttribute("stroke", signedColor(value));
        path.setAttribute("stroke-width", linkWidth(value).toFixed(2));
      }));
    });
    frame.biases.forEach((vector, index) => {
      const squares = this.biasSquares[index + 1];
      if (!squares) return;
      vector.forEach((b, j) => {
        if (squares[j]) squares[j].style.background = signedColor(b ?? 0);
      });
    });
  }

  showCard(event, text) {
    this.cardText = text;
    this.hovercard.innerHTML = text();
    this.hovercard.hidden = false;
    this.moveCard(event);
  }

  moveCard(event) {
    if (this.cardText) this.hovercard.innerHTML = this.cardText();
    this.hovercard.style.left = `${event.clientX + 14}px`;
    this.hovercard.style.top = `${event.clientY + 12}px`;
  }

  hideCard() {
    this.cardText = null;
    this.hovercard.hidden = true;
  }

  setupPopover() {
    const form = this.popover;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const value = Number(form.querySelector("input").value);
      if (this.onSubmit && Number.isFinite(value)) this.onSubmit(value);
      form.hidden = true;
    });
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") form.hidden = true;
    });
    document.addEventListener("mousedown", (e) => {
      if (!form.hidden && !form.contains(e.target) && !e.target.closest?.(".hit, .bias")) form.hidden = true;
    });
  }

  openEditor(event, title, value, onSubmit) {
    this.hideCard();
    const form = this.popover;
    form.querySelector("#edit-title").textContent = title;
    const input = form.querySelector("input");
    input.value = value === null ? "" : String(value);
    this.onSubmit = onSubmit;
    form.hidden = false;
    const width = form.offsetWidth;
    form.style.left = `${Math.min(event.clientX + 10, window.innerWidth - width - 10)}px`;
    form.style.top = `${event.clientY + 10}px`;
    input.focus();
    input.select();
  }
}
