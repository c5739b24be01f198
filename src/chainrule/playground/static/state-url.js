// Every setting in the URL's hash, so that a copied link reproduces the experiment.
//
// Format: #dataset=circle&learning_rate=0.03&features=x1,x2&layers=4-tanh,2-tanh-d0.2-bn&...
// A layer is `units-activation`, then `-dP` for dropout P and `-bn` for batch norm.
// Page-only state that is not a server setting (the extended mode) rides along under its own key.

const PAGE_KEYS = ["extended"];
const EMBED_KEYS = ["hideText", "hide"];   // read by embed.js; not settings

export function encodeLayer(layer) {
  let text = `${layer.units}-${layer.activation}`;
  if (layer.dropout) text += `-d${layer.dropout}`;
  if (layer.batchnorm) text += "-bn";
  return text;
}

export function decodeLayer(text) {
  const parts = text.split("-");
  const units = Number(parts[0]);
  if (!Number.isInteger(units)) throw new Error(`layer "${text}": units must be an integer`);
  const layer = { units, activation: parts[1] || "tanh", dropout: 0, batchnorm: false };
  for (const part of parts.slice(2)) {
    if (part === "bn") layer.batchnorm = true;
    else if (part.startsWith("d") && Number.isFinite(Number(part.slice(1)))) layer.dropout = Number(part.slice(1));
    else throw new Error(`layer "${text}": unknown part "${part}"`);
  }
  return layer;
}

/** The hash text for a full settings object plus the page's own state. */
export function encodeHash(settings, page = {}) {
  const params = [];
  for (const [key, value] of Object.entries(settings)) {
    let text;
    if (key === "layers") text = value.map(encodeLayer).join(",");
    else if (Array.isArray(value)) text = value.join(",");
    else text = String(value);
    params.push(`${key}=${encodeURIComponent(text).replace(/%2C/g, ",")}`);
  }
  for (const key of PAGE_KEYS) if (page[key] !== undefined) params.push(`${key}=${page[key] ? 1 : 0}`);
  return params.join("&");
}

/**
 * Parse the hash against a template settings object (the server's, from `hello`), which gives
 * each field's type. Returns {settings, page, problems}: the fields found, converted; the page's
 * own keys; and a sentence for every part that could not be read (unknown keys are reported too,
 * so that a mistyped link says so instead of silently doing something else).
 */
export function decodeHash(hash, template) {
  const settings = {};
  const page = {};
  const problems = [];
  const text = hash.startsWith("#") ? hash.slice(1) : hash;
  if (!text) return { settings, page, problems };
  for (const pair of text.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const raw = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
    if (PAGE_KEYS.includes(key)) {
      page[key] = raw === "1" || raw === "true";
      continue;
    }
    if (EMBED_KEYS.includes(key)) continue;
    if (!(key in template)) {
      problems.push(`unknown setting "${key}" in the link`);
      continue;
    }
    const kind = template[key];
    try {
      if (key === "layers") settings.layers = raw === "" ? [] : raw.split(",").map(decodeLayer);
      else if (Array.isArray(kind)) settings[key] = raw === "" ? [] : raw.split(",");
      else if (typeof kind === "boolean") settings[key] = raw === "true" || raw === "1";
      else if (typeof kind === "number") {
        const value = Number(raw);
        if (raw === "" || !Number.isFinite(value)) throw new Error(`"${key}" must be a number, got "${raw}"`);
        settings[key] = value;
      } else settings[key] = raw;
    } catch (err) {
      problems.push(err.message);
    }
  }
  return { settings, page, problems };
}
