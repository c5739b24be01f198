// Embed mode, for an instructor who puts one experiment on a slide (as TF Playground's hideText
// and hidden controls do): `#...&hideText=1&hide=learning_rate,data,panels` in the link hides the
// explanatory text and the named controls. The keys stay in the URL as the page rewrites it.

/** Every control a link may hide: its name and the elements it stands for. */
export const HIDEABLE = {
  banner: "header.banner",
  presets: ".preset-picker",
  transport: ".transport",
  epoch: ".epoch-control",
  learning_rate: "#learning_rate",
  activation: "#activation",
  regularization: "#regularization",
  regularization_rate: "#regularization_rate",
  problem: "#problem",
  advanced: ".control-row.advanced",
  data: ".data-column",
  datasets: "#datasets",
  your_data: ".your-data",
  layers: ".layers-title",
  residual: ".residual-toggle",
  loss_chart: ".loss-block",
  metrics: "#metrics",
  panels: ".panels",
  gradients: '[aria-label="Gradient view"]',
  backprop: '[aria-label="Backprop"]',
  model: '[aria-label="Model"]',
};

export const EMBED_KEYS = ["hideText", "hide"];

/** {hideText, hide: [names], problems} from the location hash. */
export function readEmbed(hash) {
  const params = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash);
  const hide = (params.get("hide") || "").split(",").filter(Boolean);
  const problems = hide.filter((name) => !(name in HIDEABLE))
    .map((name) => `unknown control "${name}" in hide=; known: ${Object.keys(HIDEABLE).join(", ")}`);
  const flag = params.get("hideText");
  return { hideText: flag === "1" || flag === "true", hide: hide.filter((n) => n in HIDEABLE), problems };
}

/** Hide what `embed` names (a select hides with its label). */
export function applyEmbed(embed) {
  document.body.classList.toggle("hide-text", embed.hideText);
  document.body.classList.toggle("embedded", embed.hideText || embed.hide.length > 0);
  for (const name of embed.hide) {
    for (const el of document.querySelectorAll(HIDEABLE[name])) {
      (el.closest("label.control") || el).classList.add("embed-hidden");
    }
  }
}

/** The hash text that keeps the embed keys, to append to the settings' hash. */
export function encodeEmbed(embed) {
  const parts = [];
  if (embed.hideText) parts.push("hideText=1");
  if (embed.hide.length) parts.push(`hide=${embed.hide.join(",")}`);
  return parts.join("&");
}
