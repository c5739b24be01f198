// The Playground page: connects to the server, keeps the page in step with its settings, draws
// every frame in an animation frame and acknowledges it (PROTOCOL.md "Flow control").

import { Connection, decodeBase64, socketUrl } from "./protocol.js";
import { Controls } from "./controls.js";
import { NetworkView } from "./network-view.js";
import { LineChart, formatNumber } from "./charts.js";
import { GradientView, renderBackprop, renderMetrics } from "./panels.js";
import {
  OUTPUT_WASH, drawBlank, drawLegend, drawOutputMap, drawPoints, drawProbabilityMap, drawSignedMap, fromPixel,
} from "./heatmap.js";
import { decodeHash, encodeHash } from "./state-url.js";
import { applyEmbed, encodeEmbed, readEmbed } from "./embed.js";

const byId = (id) => document.getElementById(id);

const DEFAULT_LIMITS = { maxLayers: 6, maxUnits: 8 };

const state = {
  settings: null,
  limits: null,
  presets: [],
  data: null,
  frame: null,
  page: { extended: false },
  embed: readEmbed(window.location.hash),   // hideText / hide= from the link (embed.js)
  hover: null,
  selectedWeight: null,
  backpropInFlight: false,
  backpropStale: false,
  backpropAt: 0,
  pendingFrame: null,
  drawScheduled: false,
};

const connection = new Connection(socketUrl(window.location));

// ---------------------------------------------------------------- messages to the server

function sendSet(settings) {
  connection.send({ type: "set", settings });
}

function sendCommand(type) {
  if (type === "play" && state.frame?.diverged) {
    toast("The network diverged: reset it (or lower the learning rate) before training again.", "warn");
    return;
  }
  connection.send({ type });
}

// ---------------------------------------------------------------- the page's parts

const controls = new Controls({
  onSet: sendSet,
  onCommand: sendCommand,
  onPageChange: (patch) => {
    Object.assign(state.page, patch);
    applyLimits();
    writeHash();
  },
});

const network = new NetworkView(byId("network"), {
  onToggleFeature(id) {
    const features = state.settings.features.includes(id)
      ? state.settings.features.filter((f) => f !== id)
      : [...state.settings.features, id];
    if (!features.length) {
      toast("At least one feature must stay on.", "warn");
      return;
    }
    sendSet({ features });
  },
  onLayersChange: (layers) => sendSet({ layers }),
  onEditWeight: (address, value) => connection.send({ type: "edit_weight", ...address, value }),
  onEditBias: (address, value) => connection.send({ type: "edit_bias", ...address, value }),
  onSelectWeight(address) {
    state.selectedWeight = address;
    requestBackprop();
  },
  onHoverNode(layer, unit, name) {
    state.hover = layer === null ? null : { layer, unit, name };
    drawOutput();
  },
}, { hovercard: byId("hovercard"), popover: byId("edit-popover") });

const lossChart = new LineChart(byId("loss-chart"), byId("loss-chart").nextElementSibling, {
  series: [
    { label: "test loss", color: "#222", width: 1.8 },
    { label: "training loss", color: "#9e9e9e", width: 1.8 },
  ],
  minY: 0, yTicks: true, xTicks: true, legend: true,
});
byId("loss-log").addEventListener("change", (e) => lossChart.setLog(e.target.checked));
const gradients = new GradientView(byId("grad-chart"), byId("grad-chart").nextElementSibling, byId("grad-bars"));

// ---------------------------------------------------------------- helpers

function toast(message, kind = "info", ms = kind === "error" ? 7000 : 3500) {
  // The same sentence twice in a row (three quick layer changes) is shown once.
  for (const old of byId("toasts").children) if (old.textContent === message) old.remove();
  const box = document.createElement("div");
  box.className = `toast ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.textContent = message;
  byId("toasts").appendChild(box);
  setTimeout(() => box.remove(), ms);
  // Never let a burst of messages cover the page.
  const all = byId("toasts").children;
  while (all.length > 4) all[0].remove();
}

applyEmbed(state.embed);
for (const problem of state.embed.problems) toast(`Link: ${problem}`, "warn");

function sameExperiment(a, b) {
  const strip = ({ show_test_data, discretize, ...rest }) => JSON.stringify(rest, Object.keys(rest).sort());
  return strip(a) === strip(b);
}

function download(filename, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 2000);
}

function outputUnits() {
  const { frame, settings, data } = state;
  if (frame && settings && frame.weights.length === settings.layers.length + 1) {
    return frame.weights[frame.weights.length - 1].length;
  }
  if (data && data.problem === "classification" && data.classes >= 3) return data.classes;
  return 1;
}

function problem() {
  return state.data?.problem || state.settings?.problem || "classification";
}

function classes() {
  return state.data?.classes || 2;
}

function applyLimits() {
  const server = state.limits || { max_layers: 10, max_units: 32 };
  const limits = state.page.extended
    ? { maxLayers: server.max_layers, maxUnits: server.max_units }
    : DEFAULT_LIMITS;
  byId("extended").checked = state.page.extended;
  network.setLimits(limits);
  renderLayerCount();
}

function renderLayerCount() {
  if (!state.settings) return;
  const count = state.settings.layers.length;
  const maxLayers = state.page.extended ? (state.limits?.max_layers ?? 10) : DEFAULT_LIMITS.maxLayers;
  byId("layer-count").textContent = count;
  byId("layer-word").textContent = count === 1 ? "hidden layer" : "hidden layers";
  byId("add-layer").disabled = count >= maxLayers;
  byId("remove-layer").disabled = count === 0;
}

/** A network beyond 6 layers of 8 (from a link or a preset) is only drawable in the extended mode. */
function needsExtended(layers) {
  return layers.length > DEFAULT_LIMITS.maxLayers || layers.some((l) => l.units > DEFAULT_LIMITS.maxUnits);
}

function writeHash() {
  if (!state.settings) return;
  const embed = encodeEmbed(state.embed);
  const hash = `#${encodeHash(state.settings, state.page)}${embed ? `&${embed}` : ""}`;
  if (hash !== window.location.hash) history.replaceState(null, "", hash);
}

/** Send the settings a link asks for (only those that differ from the server's). */
function applyHash() {
  const { settings, page, problems } = decodeHash(window.location.hash, state.settings);
  for (const problem of problems) toast(`Link: ${problem}`, "warn");
  if (page.extended !== undefined) state.page.extended = page.extended;
  if (needsExtended(settings.layers || state.settings.layers)) state.page.extended = true;
  const changed = {};
  for (const [key, value] of Object.entries(settings)) {
    if (JSON.stringify(value) !== JSON.stringify(state.settings[key])) changed[key] = value;
  }
  if (Object.keys(changed).length) sendSet(changed);
}

// ---------------------------------------------------------------- drawing

const outputCanvas = byId("output-map");

function drawOutput() {
  const { frame, settings } = state;
  const label = byId("hover-label");
  if (!frame || !settings) {
    drawBlank(outputCanvas);
    return;
  }
  if (frame.diverged) {
    drawBlank(outputCanvas);
  } else if (state.hover && frame.nodes[state.hover.layer]?.[state.hover.unit]) {
    const grid = frame.nodes[state.hover.layer][state.hover.unit];
    const isOutput = state.hover.layer === frame.nodes.length - 1;
    if (isOutput && outputUnits() > 1) drawProbabilityMap(outputCanvas, grid, frame.node_size, state.hover.unit, { smooth: true, wash: OUTPUT_WASH });
    else drawSignedMap(outputCanvas, grid, frame.node_size, { smooth: true, wash: OUTPUT_WASH });
  } else {
    drawOutputMap(outputCanvas, frame.output, frame.output_size, {
      discretize: settings.discretize, classes: outputUnits() > 1 ? outputUnits() : 2,
    });
  }
  label.hidden = !state.hover;
  if (state.hover) label.textContent = `Showing ${state.hover.name}`;
  if (state.data) {
    const p = problem();
    drawPoints(outputCanvas, state.data.train, { problem: p });
    if (settings.show_test_data) drawPoints(outputCanvas, state.data.test, { problem: p, test: true });
  }
}

function renderLegend() {
  const p = problem();
  const k = outputUnits();
  drawLegend(byId("legend"), { problem: p, classes: k > 1 ? k : 2 });
  if (p === "regression") {
    byId("legend-lo").textContent = "−1";
    byId("legend-hi").textContent = "1";
  } else if (k > 1) {
    byId("legend-lo").textContent = "class 0";
    byId("legend-hi").textContent = `class ${k - 1}`;
  } else {
    byId("legend-lo").textContent = "class 0";
    byId("legend-hi").textContent = "class 1";
  }
}

function formatEpoch(epoch) {
  const text = String(epoch).padStart(6, "0");
  return text.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function drawFrame(frame) {
  const previous = state.frame;
  if (previous && frame.epoch < previous.epoch) {
    lossChart.history.clear();
    gradients.clear();
  }
  state.frame = frame;
  document.body.dataset.seq = frame.seq;
  document.body.dataset.epoch = frame.epoch;
  controls.setPlaying(frame.playing);
  network.setPlaying(frame.playing);
  network.render(state.settings, outputUnits());
  network.update(frame);
  byId("epoch").textContent = formatEpoch(frame.epoch);
  const loss = (v) => (frame.diverged ? "NaN" : v === null ? "–" : v.toFixed(3));
  byId("test-loss").textContent = loss(frame.test_loss);
  byId("train-loss").textContent = loss(frame.train_loss);
  byId("diverged").hidden = !frame.diverged;
  document.body.classList.toggle("is-diverged", frame.diverged);
  if (frame.diverged) {
    // Metrics of a network full of NaN mean nothing: show blanks, not the last good values.
    renderMetrics(byId("metrics"), { metrics: {} }, problem());
  } else {
    lossChart.history.push(frame.epoch, [frame.test_loss, frame.train_loss]);
    renderMetrics(byId("metrics"), frame, problem());
    gradients.push(frame);
  }
  lossChart.draw();
  drawOutput();
  renderLegend();
  // While playing the panel refreshes about once a second; while paused after every change.
  if (state.selectedWeight && !frame.diverged && (!frame.playing || performance.now() - state.backpropAt > 1000)) {
    requestBackprop();
  }
}

connection.on("frame", (frame) => {
  state.pendingFrame = frame;
  if (state.drawScheduled) return;
  state.drawScheduled = true;
  requestAnimationFrame(() => {
    state.drawScheduled = false;
    const next = state.pendingFrame;
    state.pendingFrame = null;
    try {
      drawFrame(next);
    } finally {
      // Acknowledge after drawing, so the server never streams faster than the page draws.
      connection.send({ type: "ack", seq: next.seq });
    }
  });
});

// ---------------------------------------------------------------- server messages

connection.on("hello", (hello) => {
  state.settings = hello.settings;
  state.limits = hello.limits;
  state.presets = hello.presets;
  state.frame = null;
  lossChart.history.clear();
  gradients.clear();
  controls.setup(hello.choices);
  network.setActivations(hello.choices.activations);
  const select = byId("preset-select");
  select.length = 1;
  for (const preset of hello.presets) {
    const option = new Option(preset.title, preset.name);
    option.title = preset.description;
    select.add(option);
  }
  applyHash();
  applyLimits();
  renderSettings();
});

function renderSettings() {
  const { settings } = state;
  controls.render(settings);
  controls.buildDatasets(settings, state.data ? state.data.train.concat(state.data.test) : null);
  network.render(settings, outputUnits());
  renderLayerCount();
  writeHash();
  document.body.dataset.currentDataset = settings.dataset;
}

connection.on("settings", (message) => {
  state.settings = message.settings;
  // A preset's description holds only while its settings do (display toggles aside).
  if (state.presetPending) {          // the preset's own settings, as the server applied them
    state.presetPending = false;
    state.presetSettings = message.settings;
  } else if (state.presetSettings && !sameExperiment(state.presetSettings, message.settings)) {
    state.presetSettings = null;
    byId("preset-description").innerHTML = "";
  }
  if (!state.page.extended && needsExtended(message.settings.layers)) {
    state.page.extended = true;
    applyLimits();
  }
  renderSettings();
  drawOutput();
});

connection.on("data", (data) => {
  state.data = data;
  controls.renderClassPicker(data.problem, data.classes);
  controls.buildDatasets(state.settings, data.train.concat(data.test));
  network.render(state.settings, outputUnits());
  document.body.dataset.points = data.train.length + data.test.length;
  drawOutput();
  renderLegend();
});

connection.on("notice", (notice) => {
  if (notice.code === "reset") {
    lossChart.history.clear();
    gradients.clear();
    state.selectedWeight = null;
    network.select(null);
  }
  const stall = byId("stall-note");
  if (notice.code === "reset") stall.hidden = true;
  if (notice.code === "stalled") {    // stays until a reset: a toast alone is easily missed
    stall.textContent = notice.message;
    stall.hidden = false;
  }
  toast(notice.message, notice.code === "diverged" ? "error" : notice.code === "stalled" ? "warn" : "info",
    notice.code === "stalled" ? 12000 : undefined);
});

connection.on("error", (error) => {
  toast(error.message, "error");
  // Whatever the user changed was not applied: show the server's settings again.
  if (state.settings) controls.render(state.settings, { force: true });
});

connection.on("open", () => {
  const badge = byId("connection");
  badge.dataset.state = "open";
  badge.textContent = "connected";
  document.body.dataset.connected = "true";
});

connection.on("close", () => {
  const badge = byId("connection");
  badge.dataset.state = "closed";
  badge.textContent = "reconnecting…";
  document.body.dataset.connected = "false";
  controls.setPlaying(false);
  network.setPlaying(false);
});

// ---------------------------------------------------------------- page actions

async function requestBackprop() {
  const address = state.selectedWeight;
  if (!address) return;
  if (state.backpropInFlight) {
    state.backpropStale = true;
    return;
  }
  state.backpropInFlight = true;
  state.backpropStale = false;
  state.backpropAt = performance.now();
  try {
    const reply = await connection.request({ type: "backprop", ...address });
    if (state.selectedWeight === address) renderBackprop(byId("backprop"), reply, network.weightName(address));
  } catch {
    // The error toast has been shown by the generic handler.
  } finally {
    state.backpropInFlight = false;
  }
  if (state.backpropStale) requestBackprop();
}

byId("add-layer").addEventListener("click", () => {
  const layers = state.settings.layers.map((l) => ({ ...l }));
  const last = layers[layers.length - 1];
  const activation = last?.activation || controls.preferredActivation || "tanh";
  layers.push({ units: 2, activation, dropout: 0, batchnorm: false });
  sendSet({ layers });
});

byId("remove-layer").addEventListener("click", () => {
  sendSet({ layers: state.settings.layers.slice(0, -1).map((l) => ({ ...l })) });
});

byId("diverged-reset").addEventListener("click", () => connection.send({ type: "reset" }));

outputCanvas.addEventListener("click", (event) => {
  const rect = outputCanvas.getBoundingClientRect();
  const [x1, x2] = fromPixel(event.clientX - rect.left, event.clientY - rect.top, rect.width);
  const clamp = (v) => Math.max(-6, Math.min(6, Math.round(v * 1000) / 1000));
  if (event.altKey) {
    connection.send({ type: "delete_point", x1: clamp(x1), x2: clamp(x2), radius: 0.5 });
    return;
  }
  const message = {
    type: "add_point", x1: clamp(x1), x2: clamp(x2), label: controls.pointLabel(problem(), event.shiftKey),
  };
  if (controls.addToTest) message.split = "test";
  connection.send(message);
});

byId("csv-upload").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  const limit = state.limits?.max_csv_chars ?? 200000;
  const text = await file.text();
  if (text.length > limit) {
    toast(`${file.name} has ${text.length.toLocaleString()} characters; the limit is ${limit.toLocaleString()}.`, "error");
    return;
  }
  connection.send({ type: "upload_csv", text });
});

byId("csv-download").addEventListener("click", async () => {
  try {
    const reply = await connection.request({ type: "get_data_csv" });
    download(reply.filename, new Blob([reply.text], { type: "text/csv" }));
  } catch { /* shown by the error handler */ }
});

byId("clear-points").addEventListener("click", () => connection.send({ type: "clear_points" }));

byId("export-script").addEventListener("click", async () => {
  try {
    const reply = await connection.request({ type: "export_script" });
    download(reply.filename, new Blob([reply.text], { type: "text/x-python" }));
  } catch { /* shown by the error handler */ }
});

byId("save-model").addEventListener("click", async () => {
  try {
    const reply = await connection.request({ type: "save_model" }, 30000);
    download(reply.filename, new Blob([decodeBase64(reply.base64)], { type: "application/octet-stream" }));
  } catch { /* shown by the error handler */ }
});

byId("preset-select").addEventListener("change", (event) => {
  const name = event.target.value;
  event.target.value = "";
  if (!name) return;
  const preset = state.presets.find((p) => p.name === name);
  connection.send({ type: "preset", name });
  if (preset) {
    state.presetPending = true;
    byId("preset-description").innerHTML = `<b>${preset.title}</b><br>${preset.description}`;
  }
});

byId("copy-link").addEventListener("click", async () => {
  writeHash();
  try {
    await navigator.clipboard.writeText(window.location.href);
    toast("Link copied: it reproduces this experiment.");
  } catch {
    toast(`Copy this link: ${window.location.href}`, "info", 8000);
  }
});

window.addEventListener("hashchange", () => {
  if (state.settings) applyHash();
});

window.addEventListener("resize", () => {
  if (state.settings) network.render(state.settings, outputUnits());
  lossChart.draw();
  gradients.chart.draw();
});

function buildAxes() {
  const ticks = [-6, -4, -2, 0, 2, 4, 6];
  byId("x-axis").innerHTML = ticks.map((t) => `<span style="left:${((t + 6) / 12) * 100}%">${t}</span>`).join("");
  byId("y-axis").innerHTML = ticks.map((t) => `<span style="top:${((6 - t) / 12) * 100}%">${t}</span>`).join("");
}

buildAxes();
drawBlank(outputCanvas);
connection.open();
// For the browser tests and the curious: the page's state, read-only by convention.
window.playground = {
  state, connection, formatNumber, lossChart,
  selectWeight(address) {    // what a click on a link does (used by tests and embeds)
    state.selectedWeight = address;
    network.select(address);
    requestBackprop();
  },
};
