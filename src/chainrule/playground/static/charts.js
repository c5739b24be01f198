// Line charts on canvas: the loss curves and the per-layer gradient magnitudes, with hover values.

/**
 * A bounded history of (x, [y0, y1, ...]) rows. When it grows past `capacity` every second row
 * is dropped, so a long run keeps its whole shape in constant memory.
 */
export class History {
  constructor(capacity = 600) {
    this.capacity = capacity;
    this.clear();
  }

  clear() {
    this.xs = [];
    this.rows = [];
  }

  get length() {
    return this.xs.length;
  }

  get lastX() {
    return this.xs.length ? this.xs[this.xs.length - 1] : -Infinity;
  }

  push(x, row) {
    if (this.xs.length && x === this.lastX) {
      this.rows[this.rows.length - 1] = row;
      return;
    }
    this.xs.push(x);
    this.rows.push(row);
    if (this.xs.length > this.capacity) {
      // Keep the newest row so the chart always ends at the present.
      const keep = (_, i) => i % 2 === 0 || i === this.xs.length - 1;
      this.xs = this.xs.filter(keep);
      this.rows = this.rows.filter(keep);
    }
  }
}

function sizeCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  return ratio;
}

function formatNumber(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v.toFixed(a < 0.1 ? 4 : 3);
}

/**
 * A chart of several series sharing an x axis. `series` is [{label, color}], one per column of
 * the history's rows. With `log` the y axis is logarithmic (gradient magnitudes span decades).
 */
export class LineChart {
  constructor(canvas, tooltip, { series = [], log = false, xLabel = "epoch", minY = null, yTicks = false, xTicks = false, legend = false } = {}) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.series = series;
    this.log = log;
    this.xLabel = xLabel;
    this.minY = minY;
    this.yTicks = yTicks;
    this.xTicks = xTicks;   // epoch values along the bottom
    this.legend = legend;   // each series' name, colour and latest value, top right
    this.history = new History();
    this.hoverIndex = null;
    canvas.addEventListener("mousemove", (e) => this.hover(e));
    canvas.addEventListener("mouseleave", () => {
      this.hoverIndex = null;
      this.tooltip.hidden = true;
      this.draw();
    });
  }

  setSeries(series) {
    this.series = series;
  }

  setLog(log) {
    this.log = log;
    this.draw();
  }

  bounds() {
    const { xs, rows } = this.history;
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of rows) {
      for (const v of row) {
        if (v === null || !Number.isFinite(v) || (this.log && v <= 0)) continue;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (!Number.isFinite(lo)) return null;
    if (this.log) {
      lo = Math.log10(lo);
      hi = Math.log10(hi);
      if (hi - lo < 1) { lo -= 0.5; hi += 0.5; }
    } else {
      if (this.minY !== null) lo = Math.min(lo, this.minY);
      if (hi - lo < 1e-9) hi = lo + 1;
    }
    return { x0: xs[0], x1: Math.max(xs[xs.length - 1], xs[0] + 1), lo, hi };
  }

  draw() {
    const ratio = sizeCanvas(this.canvas);
    const ctx = this.canvas.getContext("2d");
    const { width, height } = this.canvas;
    ctx.clearRect(0, 0, width, height);
    const pad = { left: (this.yTicks ? 40 : 2) * ratio, right: 2 * ratio, top: 4 * ratio, bottom: (this.xTicks ? 16 : 4) * ratio };
    const w = width - pad.left - pad.right;
    const h = height - pad.top - pad.bottom;
    const b = this.bounds();
    if (!b) return;
    const xAt = (x) => pad.left + ((x - b.x0) / (b.x1 - b.x0)) * w;
    const yAt = (v) => {
      const t = this.log ? Math.log10(v) : v;
      return pad.top + h - ((t - b.lo) / (b.hi - b.lo)) * h;
    };
    if (this.yTicks) this.drawTicks(ctx, b, yAt, pad, ratio, width);
    if (this.xTicks) this.drawXTicks(ctx, b, xAt, pad, ratio, height);
    const { xs, rows } = this.history;
    this.series.forEach((s, k) => {
      ctx.beginPath();
      ctx.strokeStyle = s.color;
      ctx.lineWidth = (s.width || 1.5) * ratio;
      let drawing = false;
      for (let i = 0; i < xs.length; i++) {
        const v = rows[i][k];
        if (v === null || v === undefined || !Number.isFinite(v) || (this.log && v <= 0)) {
          drawing = false;
          continue;
        }
        const px = xAt(xs[i]);
        const py = yAt(v);
        if (drawing) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
        drawing = true;
      }
      ctx.stroke();
    });
    if (this.legend) this.drawLegend(ctx, pad, ratio, width);
    if (this.hoverIndex !== null && this.hoverIndex < xs.length) {
      const px = xAt(xs[this.hoverIndex]);
      ctx.strokeStyle = "rgba(0,0,0,0.35)";
      ctx.lineWidth = ratio;
      ctx.beginPath();
      ctx.moveTo(px, pad.top);
      ctx.lineTo(px, pad.top + h);
      ctx.stroke();
      this.series.forEach((s, k) => {
        const v = rows[this.hoverIndex][k];
        if (v === null || !Number.isFinite(v) || (this.log && v <= 0)) return;
        ctx.beginPath();
        ctx.fillStyle = s.color;
        ctx.arc(px, yAt(v), 3 * ratio, 0, 2 * Math.PI);
        ctx.fill();
      });
    }
  }

  drawLegend(ctx, pad, ratio, width) {
    const { rows } = this.history;
    const last = rows[rows.length - 1] || [];
    ctx.font = `${11 * ratio}px system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    const lines = this.series.map((s, k) => `${s.label} ${formatNumber(last[k])}`);
    const textWidth = Math.max(...lines.map((t) => ctx.measureText(t).width));
    const x = width - pad.right - textWidth - 26 * ratio;
    let y = pad.top + 9 * ratio;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(x - 4 * ratio, pad.top, textWidth + 28 * ratio, lines.length * 15 * ratio + 4 * ratio);
    this.series.forEach((s, k) => {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2.5 * ratio;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + 16 * ratio, y);
      ctx.stroke();
      ctx.fillStyle = "#333";
      ctx.fillText(lines[k], x + 20 * ratio, y);
      y += 15 * ratio;
    });
  }

  drawXTicks(ctx, b, xAt, pad, ratio, height) {
    ctx.font = `${10 * ratio}px system-ui, sans-serif`;
    ctx.fillStyle = "#777";
    ctx.textBaseline = "bottom";
    const span = b.x1 - b.x0;
    const step = 10 ** Math.floor(Math.log10(span / 4 || 1));
    const nice = Math.max(1, [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 5) || step * 10);
    const first = Math.ceil(b.x0 / nice) * nice;
    for (let x = first; x <= b.x1 + 1e-9; x += nice) {
      const px = xAt(x);
      const label = String(x);
      ctx.textAlign = px - ctx.measureText(label).width / 2 < pad.left ? "left" : "center";
      ctx.fillText(label, px, height - 1 * ratio);
    }
    ctx.textAlign = "right";
    ctx.fillText(this.xLabel, xAt(b.x1), height - 1 * ratio);
    ctx.textAlign = "left";
  }

  drawTicks(ctx, b, yAt, pad, ratio, width) {
    ctx.font = `${10 * ratio}px system-ui, sans-serif`;
    ctx.fillStyle = "#777";
    ctx.strokeStyle = "rgba(0,0,0,0.07)";
    ctx.lineWidth = ratio;
    ctx.textBaseline = "middle";
    const ticks = [];
    if (this.log) {
      for (let e = Math.ceil(b.lo); e <= Math.floor(b.hi); e++) ticks.push(10 ** e);
      if (ticks.length < 2) ticks.splice(0, ticks.length, 10 ** b.lo, 10 ** ((b.lo + b.hi) / 2), 10 ** b.hi);
    } else {
      ticks.push(b.lo, (b.lo + b.hi) / 2, b.hi);
    }
    for (const t of ticks) {
      const y = yAt(t);
      ctx.beginPath();
      ctx.moveTo(pad.left, y);
      ctx.lineTo(width - pad.right, y);
      ctx.stroke();
      const exact = Number.isInteger(Math.round(Math.log10(t) * 1e6) / 1e6);
      const label = this.log && exact ? `1e${Math.round(Math.log10(t))}` : formatNumber(t);
      ctx.fillText(label, 2 * ratio, y);
    }
  }

  hover(event) {
    const { xs, rows } = this.history;
    if (!xs.length) return;
    const rect = this.canvas.getBoundingClientRect();
    const left = this.yTicks ? 40 : 2;
    const t = (event.clientX - rect.left - left) / Math.max(1, rect.width - left - 2);
    const b = this.bounds();
    if (!b) return;
    const x = b.x0 + t * (b.x1 - b.x0);
    let best = 0;
    for (let i = 1; i < xs.length; i++) if (Math.abs(xs[i] - x) < Math.abs(xs[best] - x)) best = i;
    this.hoverIndex = best;
    const lines = [`<b>${this.xLabel} ${xs[best]}</b>`];
    this.series.forEach((s, k) => {
      lines.push(`<span class="swatch" style="background:${s.color}"></span>${s.label}: ${formatNumber(rows[best][k])}`);
    });
    this.tooltip.innerHTML = lines.join("<br>");
    this.tooltip.hidden = false;
    const parent = this.tooltip.offsetParent || document.body;
    const prect = parent.getBoundingClientRect();
    const tipWidth = this.tooltip.offsetWidth;
    let left2 = event.clientX - prect.left + 12;
    if (left2 + tipWidth > prect.width) left2 = event.clientX - prect.left - tipWidth - 12;
    this.tooltip.style.left = `${left2}px`;
    this.tooltip.style.top = `${event.clientY - prect.top + 10}px`;
    this.draw();
  }
}

export { formatNumber };
