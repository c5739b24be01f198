// The panels beyond the original: metrics and confusion matrix, gradient flow, backprop.

import { LineChart, formatNumber } from "./charts.js";
import { classColor } from "./heatmap.js";

const percent = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);
const fixed = (v) => (v === null || v === undefined ? "–" : v.toFixed(3));

function escapeHtml(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

/** Accuracy and the confusion matrix (classification), R² (regression). */
export function renderMetrics(container, frame, problem) {
  const m = frame.metrics || {};
  if (problem === "regression") {
    container.innerHTML = `
      <div class="row"><span>R² on test data</span><b id="test-r2">${fixed(m.test_r2)}</b></div>
      <div class="row"><span>R² on training data</span><b id="train-r2">${fixed(m.train_r2)}</b></div>`;
    return;
  }
  const confusion = m.confusion || [];
  const total = confusion.flat().reduce((a, b) => a + b, 0) || 1;
  const rows = confusion.map((row, t) => {
    const rowTotal = row.reduce((a, b) => a + b, 0) || 1;
    const cells = row.map((count, p) => {
      // Shade each cell by its share of the true class: the diagonal dark when the net is right.
      const share = count / rowTotal;
      const color = t === p ? classColor(t) : "#c62828";
      // Dark cells get white text, so a saturated diagonal stays readable.
      const ink = share > 0.5 ? "color:#fff;font-weight:600;text-shadow:0 0 2px rgba(0,0,0,0.6)" : "color:#222";
      return `<td style="background:${color}${Math.round(share * 200 + 20).toString(16).padStart(2, "0")};${ink}" title="true ${t}, predicted ${p}: ${count}">${count}</td>`;
    }).join("");
    return `<tr><th>${t}</th>${cells}</tr>`;
  }).join("");
  const header = confusion.map((_, p) => `<th>${p}</th>`).join("");
  container.innerHTML = `
    <div class="row"><span>Test accuracy</span><b id="test-accuracy">${percent(m.test_accuracy)}</b></div>
    <div class="row"><span>Training accuracy</span><b id="train-accuracy">${percent(m.train_accuracy)}</b></div>
    ${confusion.length ? `<div class="confusion-title">Confusion matrix, ${total} points (rows: true class, columns: predicted)</div>
      <table class="confusion" id="confusion">
      <tr><th></th>${header}</tr>${rows}</table>` : ""}`;
}

function layerColor(index, count) {
  // From light blue (first layer) to the deep accent (output), so depth reads at a glance.
  const t = count <= 1 ? 1 : index / (count - 1);
  const from = [120, 190, 235];
  const to = [24, 61, 78];
  const c = from.map((f, i) => Math.round(f + (to[i] - f) * t));
  return `rgb(${c.join(",")})`;
}

/** Per-layer gradient magnitude over time (log scale), and the latest values as bars. */
export class GradientView {
  constructor(canvas, tooltip, bars) {
    this.chart = new LineChart(canvas, tooltip, { log: true, yTicks: true });
    this.bars = bars;
    this.layers = 0;
  }

  clear() {
    this.chart.history.clear();
    this.chart.draw();
  }

  push(frame) {
    const norms = frame.grad_norms || [];
    if (norms.length !== this.layers) {
      this.layers = norms.length;
      this.chart.history.clear();
      this.chart.setSeries(norms.map((_, i) => ({
        label: i === norms.length - 1 ? "output layer" : `layer ${i + 1}`,
        color: layerColor(i, norms.length),
      })));
    }
    if (frame.iteration > 0) this.chart.history.push(frame.epoch, norms);
    this.chart.draw();
    this.renderBars(norms);
  }

  renderBars(norms) {
    const positive = norms.filter((v) => v > 0);
    const hi = Math.log10(Math.max(...positive, 1e-12));
    const lo = Math.min(hi - 4, Math.log10(Math.min(...positive, 1)));
    this.bars.innerHTML = norms.map((v, i) => {
      const width = v > 0 ? Math.max(1, (100 * (Math.log10(v) - lo)) / (hi - lo || 1)) : 0;
      const label = i === norms.length - 1 ? "output" : `layer ${i + 1}`;
      return `<span>${label}</span><div class="bar" style="width:${width}%;background:${layerColor(i, norms.length)}"></div><span class="value">${v === null ? "–" : formatNumber(v)}</span>`;
    }).join("");
  }
}

/** The chain-rule factors of one weight's gradient (PROTOCOL.md `backprop`). */
export function renderBackprop(container, reply, weightName) {
  const ex = reply.example;
  const rows = [];
  const row = (label, value) => rows.push(`<tr><td>${label}</td><td>${value}</td></tr>`);
  const n = formatNumber;
  const vector = (v) => (Array.isArray(v) ? `[${v.map(n).join(", ")}]` : n(v));
  let formula = "";
  if (ex) {
    row("example", `#${ex.index} at (${n(ex.point[0])}, ${n(ex.point[1])}), target ${vector(ex.target)}`);
    row("network output", vector(ex.output));
    row("∂L/∂out (output δ)", vector(ex.dL_dout));
    for (const d of ex.downstream || []) {
      row(`δ of layer ${d.layer}`, vector(d.delta));
      if (d.weights_from_unit) row(`weights leaving unit ${reply.to + 1}`, vector(d.weights_from_unit));
    }
    if (ex.dL_da !== null && ex.dL_da !== undefined) {
      row("∂L/∂a<sub>j</sub> = Σ W·δ", n(ex.dL_da));
      row(`f′(z<sub>j</sub>), ${escapeHtml(ex.activation)} at z = ${n(ex.z)}`, n(ex.activation_derivative));
      if (ex.batchnorm_scale !== null && ex.batchnorm_scale !== undefined) row("batch-norm scale γ/σ", n(ex.batchnorm_scale));
    }
    row("δ<sub>j</sub> = ∂L/∂z<sub>j</sub>", n(ex.dL_dz));
    row("a<sub>i</sub> (input to the weight)", n(ex.input_activation));
    row("contribution δ<sub>j</sub>·a<sub>i</sub>", n(ex.contribution));
    const share = `∂L<sub>${ex.index}</sub>/∂w, point #${ex.index}'s share (the mean above averages ${reply.examples} of these)`;
    formula = ex.dL_da !== null && ex.dL_da !== undefined
      ? `${share} = ∂L/∂a<sub>j</sub> · f′(z<sub>j</sub>)${ex.batchnorm_scale != null ? " · γ/σ" : ""} · a<sub>i</sub> = ${n(ex.dL_da)} × ${n(ex.activation_derivative)}${ex.batchnorm_scale != null ? ` × ${n(ex.batchnorm_scale)}` : ""} × ${n(ex.input_activation)} = ${n(ex.contribution)}`
      : `${share} = δ<sub>out</sub> · a<sub>i</sub> = ${n(ex.dL_dz)} × ${n(ex.input_activation)} = ${n(ex.contribution)}`;
  }
  container.innerHTML = `
    <div><b>${escapeHtml(weightName)}</b></div>
    <table>
      <tr><td>weight w</td><td id="bp-weight">${n(reply.weight)}</td></tr>
      <tr><td>∂L/∂w, mean over ${reply.examples} training points</td><td id="bp-gradient">${n(reply.gradient)}</td></tr>
      <tr><td>regularisation term's gradient</td><td>${n(reply.regularization_gradient)}</td></tr>
    </table>
    ${ex ? `<div class="hint" style="margin:8px 0 0">The training point that contributes most:</div>
    <div class="formula">${formula}</div>
    <table>${rows.join("")}</table>` : ""}`;
}
