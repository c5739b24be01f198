// Heat maps drawn from the server's quantised grids with ImageData, and the data points on top.

import { decodeBase64, decodeGrid } from "./protocol.js";

// playground.tensorflow.org's diverging scale: -1 orange, 0 light grey, +1 blue.
const NEGATIVE = [245, 147, 34];
const NEUTRAL = [232, 234, 235];
const POSITIVE = [8, 119, 189];
const WHITE = [255, 255, 255];
// The big output map is washed towards white so the saturated data points stand out on it.
const OUTPUT_WASH = 0.35;

// Class 0 is the original's orange (-1), class 1 its blue (+1); more classes get distinct hues.
export const CLASS_COLORS = [
  "#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];
const CLASS_RGB = CLASS_COLORS.map(hexToRgb);

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Colour of a value on the diverging scale, clamped to [-1, 1]. */
export function signedRgb(value) {
  const v = Math.max(-1, Math.min(1, value));
  return v < 0 ? mix(NEUTRAL, NEGATIVE, -v) : mix(NEUTRAL, POSITIVE, v);
}

export function signedColor(value) {
  const [r, g, b] = signedRgb(value);
  return `rgb(${r | 0},${g | 0},${b | 0})`;
}

export function classColor(k) {
  return CLASS_COLORS[k % CLASS_COLORS.length];
}

// One reusable scratch canvas per grid size: maps are small (20² or 50²) and drawn scaled up.
const scratch = new Map();
function scratchCanvas(n) {
  if (!scratch.has(n)) {
    const canvas = document.createElement("canvas");
    canvas.width = n;
    canvas.height = n;
    scratch.set(n, canvas);
  }
  return scratch.get(n);
}

/**
 * Paint n*n RGB values (computed by `colorAt(i) -> [r, g, b]`) into `canvas`, scaled to fill it.
 * `smooth` interpolates between cells (the output map), off keeps crisp cells (thumbnails).
 */
function paint(canvas, n, colorAt, smooth, wash = 0) {
  const small = scratchCanvas(n);
  const sctx = small.getContext("2d");
  const image = sctx.createImageData(n, n);
  const px = image.data;
  for (let i = 0; i < n * n; i++) {
    let [r, g, b] = colorAt(i);
    if (wash) [r, g, b] = mix([r, g, b], WHITE, wash);
    px[4 * i] = r;
    px[4 * i + 1] = g;
    px[4 * i + 2] = b;
    px[4 * i + 3] = 255;
  }
  sctx.putImageData(image, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = smooth;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

/**
 * Bilinear resampling of an n x n grid of cell-centre values to m x m (m > n), so a discretized
 * map's boundary is the interpolated zero line rather than the edges of the cells.
 */
export function upsample(values, n, m) {
  const out = new Float32Array(m * m);
  const scale = n / m;
  for (let r = 0; r < m; r++) {
    const y = Math.min(n - 1, Math.max(0, (r + 0.5) * scale - 0.5));
    const y0 = Math.floor(y), y1 = Math.min(n - 1, y0 + 1), fy = y - y0;
    for (let c = 0; c < m; c++) {
      const x = Math.min(n - 1, Math.max(0, (c + 0.5) * scale - 0.5));
      const x0 = Math.floor(x), x1 = Math.min(n - 1, x0 + 1), fx = x - x0;
      const top = values[y0 * n + x0] * (1 - fx) + values[y0 * n + x1] * fx;
      const bottom = values[y1 * n + x0] * (1 - fx) + values[y1 * n + x1] * fx;
      out[r * m + c] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

const DISCRETE_UPSAMPLE = 4;   // a discretized map is thresholded on a 4x finer interpolated grid

/**
 * Draw a node's map (a feature or a hidden unit) on the diverging scale. Values within [-1, 1]
 * keep their absolute colour so a weak unit looks weak; wider ranges (features, ReLU) are scaled
 * into it so their shape stays visible.
 */
export function drawSignedMap(canvas, grid, n, { discretize = false, smooth = false, wash = 0 } = {}) {
  const values = decodeGrid(grid);
  const scale = Math.max(1, Math.abs(grid.lo), Math.abs(grid.hi));
  paint(canvas, n, (i) => {
    const v = values[i] / scale;
    return signedRgb(discretize ? Math.sign(v) : v);
  }, smooth, wash);
}

/**
 * Paint values computed on the page (a feature's map before the server has sent one) directly
 * into a canvas of n x n pixels; CSS scales it up.
 */
export function drawSignedValues(canvas, values, n, scale = 1) {
  canvas.width = n;
  canvas.height = n;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const [r, g, b] = signedRgb(values[i] / scale);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

/** A class's probability map (0..1) shaded from neutral to that class's colour. */
export function drawProbabilityMap(canvas, grid, n, k, { smooth = false, wash = 0 } = {}) {
  const values = decodeGrid(grid);
  const target = CLASS_RGB[k % CLASS_RGB.length];
  paint(canvas, n, (i) => mix(NEUTRAL, target, Math.max(0, Math.min(1, values[i]))), smooth, wash);
}

/**
 * Draw the output map of a frame (PROTOCOL.md "output"): a score in [-1, 1], a regression value,
 * or a class index with its confidence.
 */
export function drawOutputMap(canvas, output, n, { discretize = false, classes = 2, smooth = true } = {}) {
  if (output.kind === "class") {
    const winners = decodeBase64(output.q);
    const confidence = output.confidence ? decodeGrid(output.confidence) : null;
    const floor = 1 / Math.max(2, classes);
    paint(canvas, n, (i) => {
      const rgb = CLASS_RGB[winners[i] % CLASS_RGB.length];
      if (discretize || !confidence) return mix(NEUTRAL, rgb, 0.85);
      // A cell where the winner barely wins fades to neutral, a confident one takes the class colour.
      const t = Math.max(0, Math.min(1, (confidence[i] - floor) / (1 - floor)));
      return mix(NEUTRAL, rgb, 0.15 + 0.75 * t);
    }, smooth && !discretize, OUTPUT_WASH);
    return;
  }
  const raw = decodeGrid(output);
  const span = output.kind === "value" ? Math.max(1, Math.abs(output.lo), Math.abs(output.hi)) : 1;
  if (discretize) {
    // The server sends signs when it discretizes, so interpolating them finds the zero line
    // between cells of opposite sign: a smooth boundary instead of a staircase.
    const m = n * DISCRETE_UPSAMPLE;
    const fine = upsample(raw, n, m);
    paint(canvas, m, (i) => signedRgb(fine[i] === 0 ? 0 : Math.sign(fine[i])), false, OUTPUT_WASH);
    return;
  }
  paint(canvas, n, (i) => signedRgb(raw[i] / span), smooth, OUTPUT_WASH);
}

/** Map input coordinates in [-6, 6]² to canvas pixels (x2 up). */
export function toPixel(x1, x2, size) {
  return [((x1 + 6) / 12) * size, ((6 - x2) / 12) * size];
}

export function fromPixel(px, py, size) {
  return [(px / size) * 12 - 6, 6 - (py / size) * 12];
}

/**
 * Draw data points over a map. Training points have a white rim, test points a dark one
 * (as the original). `problem` picks the colouring: class colours or the value scale.
 */
export function drawPoints(canvas, points, { problem, test = false, radius = 3.5, highlight = null }) {
  const ctx = canvas.getContext("2d");
  const size = canvas.width;
  const ratio = size / canvas.clientWidth || 1;
  ctx.lineWidth = 1 * ratio;
  ctx.strokeStyle = test ? "#111" : "#fff";
  for (const [x1, x2, label] of points) {
    const [px, py] = toPixel(x1, x2, size);
    ctx.beginPath();
    ctx.arc(px, py, radius * ratio, 0, 2 * Math.PI);
    ctx.fillStyle = problem === "regression" ? signedColor(label) : classColor(label);
    ctx.fill();
    ctx.stroke();
  }
  if (highlight) {
    const [px, py] = toPixel(highlight[0], highlight[1], size);
    ctx.beginPath();
    ctx.arc(px, py, (radius + 4) * ratio, 0, 2 * Math.PI);
    ctx.strokeStyle = "#222";
    ctx.lineWidth = 2 * ratio;
    ctx.stroke();
  }
}

/** Paint a flat neutral map (before the first frame, or while diverged). */
export { OUTPUT_WASH };

export function drawBlank(canvas) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = `rgb(${NEUTRAL.join(",")})`;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

/** A colour bar for the legend under the output map. */
export function drawLegend(canvas, { problem, classes }) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  if (problem === "classification" && classes > 2) {
    const w = width / classes;
    for (let k = 0; k < classes; k++) {
      ctx.fillStyle = classColor(k);
      ctx.fillRect(k * w + 1, 0, w - 2, height);
    }
    return;
  }
  for (let x = 0; x < width; x++) {
    ctx.fillStyle = signedColor((x / (width - 1)) * 2 - 1);
    ctx.fillRect(x, 0, 1, height);
  }
}
