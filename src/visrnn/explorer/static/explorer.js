// visrnn explorer: plain JavaScript and canvas, no library, no build step, no network but
// the explorer's own API. The whole view state lives in the URL (see readURL / writeURL).
"use strict";

// Positions shown at once and pixels per position (shared by the text strip, tracks and
// heatmaps): a character per 9 pixels; a text of words or subwords (an imported network's)
// gets wider cells and fewer of them (setGeometry).
let WINDOW = 120;
let CELL = 9;
function setGeometry() {
  const tokens = Boolean(datasets[view.ds] && datasets[view.ds].tokens);
  WINDOW = tokens ? 20 : 120;
  CELL = tokens ? 54 : 9;
}
const $ = (id) => document.getElementById(id);

const view = {
  ds: "", model: "", layer: 0, state: "", pos: 0, unit: 0, sort: "index", pins: [],
  hs: null, he: null, t: 0.5, sign: 1, before: 3, after: 3, track: "", drop: [],
  modelB: "", layerB: 0, stateB: "", unitB: null, matched: false, tf: "", minlen: 1, maxlen: null,
  q: "", rx: 0, ic: 0, rtrack: "", rby: "", snap: "",
};
const INTS = ["layer", "pos", "unit", "hs", "he", "sign", "before", "after", "layerB", "unitB", "minlen", "maxlen", "rx", "ic"];
let valueRange = { max: 1, bounded: true }; // the shown state's range (/range)
let datasets = {};
let palette = { negative: [0.9, 0.22, 0.2], positive: [0.25, 0.45, 0.95] };
let page = null; // what is shown: text, predictions, values (and valuesB)
let hyp = null; // the last hypothesis answer
let brushFrom = null;
// The server's bounds and ranking keys (/api/datasets "limits").
let limits = { live_max_chars: 4000, max_pattern: 200, rank_keys: { binary: ["f1"], scalar: ["pearson"] } };
let searchFound = null; // the last search answer
let ranking = null; // the last ranking answer
let liveAnswer = null; // the last live-text answer
let matching = null; // the last /counterparts answer: units of A matched with units of B
const snapshotLists = {}; // "ds/model" -> its /snapshots answer

// ---------------------------------------------------------------- URL state and requests

function readURL() {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of params) {
    if (!(key in view)) continue;
    if (key === "pins" || key === "drop") view[key] = value ? value.split(",").map(Number) : [];
    else if (key === "matched") view.matched = value === "1";
    else if (key === "t") view.t = Number(value);
    else if (INTS.includes(key)) view[key] = value === "" ? null : Number(value);
    else view[key] = value;
  }
}

function writeURL() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(view)) {
    if (value === null || value === "") continue;
    if (key === "pins" || key === "drop") { if (value.length) params.set(key, value.join(",")); }
    else if (key === "matched") { if (value) params.set(key, "1"); }
    else params.set(key, String(value));
  }
  history.replaceState(null, "", "?" + params.toString());
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(path, params = {}, binary = false) {
  const url = "/api/" + path + "?" + new URLSearchParams(params).toString();
  const response = await fetch(url);
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail; } catch (e) { /* not JSON */ }
    showError(`${response.status}: ${detail}`);
    throw new Error(detail);
  }
  if (!binary) return response.json();
  const units = Number(response.headers.get("X-Units"));
  const positions = Number(response.headers.get("X-Positions"));
  const halves = new Uint16Array(await response.arrayBuffer());
  const values = new Float32Array(halves.length);
  const table = halfTable();
  for (let i = 0; i < halves.length; i++) values[i] = table[halves[i]];
  return { units, positions, values };
}

let HALF_TABLE = null;
function halfTable() {
  // float16 bit pattern -> value, for the window endpoint's little-endian float16 bytes.
  if (HALF_TABLE) return HALF_TABLE;
  HALF_TABLE = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
    HALF_TABLE[h] = exponent === 0 ? sign * 2 ** -14 * (fraction / 1024)
      : exponent === 31 ? (fraction ? NaN : sign * Infinity)
      : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return HALF_TABLE;
}

// ---------------------------------------------------------------- drawing helpers

function rgb(value) {
  // The paper's Figure 2 colouring (visrnn.inside.cells.value_to_rgb): white at 0, to the negative
  // colour at -1 and the positive one at +1.
  if (value === null || !isFinite(value)) return "#eee";
  const v = Math.max(-1, Math.min(1, value));
  const end = v < 0 ? palette.negative : palette.positive;
  const c = end.map((e) => Math.round(255 * (1 + Math.abs(v) * (e - 1))));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function glyph(byte) {
  if (byte === 10) return ["↵", true];
  if (byte === 13) return ["·", true];
  if (byte === 9) return ["→", true];
  if (byte < 32 || byte > 126) return ["·", true];
  return [String.fromCharCode(byte), false];
}

// The string of position i of a /text (or /top) answer: its token, or its byte's glyph.
function tokenAt(answer, i) { return answer.tokens ? answer.tokens[i] : glyph(answer.text[i])[0]; }
function joinTokens(strings) { return strings.join(datasets[view.ds].tokens ? " " : ""); }

function symbolName(id) {
  const symbols = datasets[view.ds].symbols;
  if (id >= symbols.length) return "<unk>";
  return `"${glyph(symbols[id])[0]}"`;
}

function modelMeta(model = view.model) { return datasets[view.ds].models[model]; }

function unitValue(data, unit, t) { return data.values[unit * data.positions + t]; }

// How a state is shown (queries.TRANSFORMS): the user's choice, else the state's default
// (tanh for an LSTM's unbounded c, as in the paper's Figure 2, or an LSTMVis project's own).
function transformOf(model, layer, state) {
  if (view.tf) return view.tf;
  const defaults = modelMeta(model).default_transforms || {};
  return defaults[`l${layer}.${state}`] || (state === "c" ? "tanh" : "none");
}
function shownValue(value, transform) { return transform === "tanh" ? Math.tanh(value) : value; }
// The colour of a stored value as shown: an unbounded raw value is scaled by the state's
// observed range (valueRange.max) so that the colours span it, as the slider does.
function shade(value, transform, scale = 1) {
  if (value === null) return rgb(null);
  return rgb(shownValue(value, transform) / scale);
}
function mainShade(value) {
  return shade(value, transformOf(view.model, view.layer, view.state), valueRange.bounded ? 1 : valueRange.max);
}

// ---------------------------------------------------------------- selects

function fill(select, values, chosen, labels) {
  select.innerHTML = "";
  values.forEach((v, i) => {
    const option = document.createElement("option");
    option.value = v; option.textContent = labels ? labels[i] : v;
    select.appendChild(option);
  });
  if (values.map(String).includes(String(chosen))) select.value = chosen;
  return select.value;
}

function fillSelects() {
  const dsNames = Object.keys(datasets);
  view.ds = fill($("ds"), dsNames, view.ds || dsNames[0]);
  const models = Object.keys(datasets[view.ds].models);
  view.model = fill($("model"), models, view.model || models[0]);
  const meta = modelMeta();
  view.layer = Number(fill($("layer"), [...Array(meta.layers).keys()], view.layer ?? meta.layers - 1));
  view.state = fill($("state"), meta.states, view.state || meta.states[meta.states.length - 1]);
  fill($("modelB"), ["", ...models], view.modelB, ["(none)", ...models]);
  view.modelB = $("modelB").value;
  if (view.modelB) {
    const metaB = modelMeta(view.modelB);
    view.layerB = Number(fill($("layerB"), [...Array(metaB.layers).keys()], view.layerB ?? 0));
    view.stateB = fill($("stateB"), metaB.states, view.stateB || metaB.states[metaB.states.length - 1]);
  } else { $("layerB").innerHTML = ""; $("stateB").innerHTML = ""; }
  const binary = datasets[view.ds].tracks.filter((t) => t.binary).map((t) => t.name);
  view.track = fill($("track"), binary, view.track || binary[0]);
  $("transform").value = view.tf;
  $("minlen").value = view.minlen; $("maxlen").value = view.maxlen ?? "";
  view.unit = Math.min(Math.max(0, view.unit), meta.hidden_size - 1);
  $("pos").value = view.pos; $("unit").value = view.unit; $("sort").value = view.sort;
  $("threshold").value = view.t; $("threshold-value").textContent = view.t;
  $("sign").value = String(view.sign); $("before").value = view.before; $("after").value = view.after;
  const tracks = datasets[view.ds].tracks;
  view.rtrack = fill($("rank-track"), tracks.map((t) => t.name), view.rtrack || view.track || (tracks[0] || {}).name);
  const described = tracks.find((t) => t.name === view.rtrack);
  const keys = limits.rank_keys[described && described.binary ? "binary" : "scalar"];
  view.rby = fill($("rank-by"), keys, keys.includes(view.rby) ? view.rby : keys[0]);
  $("pattern").maxLength = limits.max_pattern; $("pattern").value = view.q;
  $("regex").checked = Boolean(view.rx); $("nocase").checked = Boolean(view.ic);
  $("live-text").maxLength = limits.live_max_chars;
}

// ---------------------------------------------------------------- training snapshots

// The model's training snapshots (visrnn.explorer.snapshots), asked once per model; the
// select offers the trained model (the store's dump) and each snapshot, or says why none.
async function fillSnapshots() {
  const key = `${view.ds}/${view.model}`;
  if (!(key in snapshotLists)) snapshotLists[key] = await api(`${view.ds}/${view.model}/snapshots`);
  const listed = snapshotLists[key];
  const names = listed.snapshots.map((s) => s.name);
  const labels = listed.snapshots.map((s) =>
    s.epoch === null ? `iteration ${s.iteration}` : `epoch ${s.epoch} (iteration ${s.iteration})`);
  view.snap = fill($("snapshot"), ["", ...names], view.snap, ["trained model", ...labels]);
  $("snapshot").disabled = !names.length;
  return listed;
}

// Which values the main view shows: a snapshot's where it covers the window, else the dump's.
function snapshotShown(listed, stop) {
  const note = $("snapshot-note");
  if (!listed.snapshots.length) { note.textContent = listed.note; return ""; }
  if (!view.snap) { note.textContent = `${listed.snapshots.length} training snapshots`; return ""; }
  if (stop > listed.max_positions) {
    note.textContent = `snapshots cover the first ${listed.max_positions} positions: the trained model is shown here`;
    return "";
  }
  const chosen = listed.snapshots.find((s) => s.name === view.snap);
  note.textContent = `units as at ${chosen.epoch === null ? "" : `epoch ${chosen.epoch}, `}iteration ${chosen.iteration} (predictions, hypothesis, match, ranking and top examples: the trained model)`;
  return view.snap;
}

// ---------------------------------------------------------------- the main view

async function load() {
  showError("");
  setGeometry();
  fillSelects();
  const listed = await fillSnapshots();
  writeURL();
  const meta = modelMeta();
  const size = Math.min(meta.num_positions, datasets[view.ds].num_positions);
  view.pos = Math.max(0, Math.min(view.pos, size - 1));
  const stop = Math.min(size, view.pos + WINDOW);
  const range = { start: view.pos, stop };
  const where = { ...range, layer: view.layer, state: view.state };
  const snap = snapshotShown(listed, stop);
  const requests = [
    api(`${view.ds}/text`, range),
    api(`${view.ds}/${view.model}/predictions`, range),
    snap ? api(`${view.ds}/${view.model}/snapshot_window`, { ...where, snapshot: snap }, true)
      : api(`${view.ds}/${view.model}/window`, where, true),
  ];
  if (view.modelB) {
    const stopB = Math.min(stop, modelMeta(view.modelB).num_positions);
    requests.push(api(`${view.ds}/${view.modelB}/window`,
      { start: view.pos, stop: stopB, layer: view.layerB, state: view.stateB }, true));
  }
  requests.push(api(`${view.ds}/${view.model}/range`,
    { layer: view.layer, state: view.state, transform: transformOf(view.model, view.layer, view.state) }));
  const answers = await Promise.all(requests);
  valueRange = answers.pop();
  const [text, predictions, values, valuesB] = answers;
  if (valuesB && view.unitB !== null && view.unitB >= valuesB.units) view.unitB = null;
  try { await loadMatching(); } catch (e) { matching = null; } // the error box says why
  const slider = $("threshold");
  slider.max = String(valueRange.max); slider.step = String(valueRange.max / 100);
  $("threshold-range").textContent = valueRange.bounded ? `(${valueRange.transform}: 0 … 1)`
    : `(${valueRange.transform}: 0 … ${valueRange.max.toPrecision(3)}, the 99.9th percentile of |value|)`;
  page = { start: view.pos, stop, text, predictions, values, valuesB, snap };
  drawStrip(); drawTracks(); drawHeatmaps(); drawCounterpart(); drawSearchMinimap(); drawRanking(); drawLive();
  if (view.hs !== null && view.he !== null) await runHypothesis(); else drawHypothesis();
  if (view.matched) await runMatch();
  await loadTop();
}

function drawStrip() {
  const strip = $("strip");
  strip.innerHTML = "";
  const documentStarts = new Set(page.text.document_starts || []);
  page.text.text.forEach((byte, i) => {
    const span = document.createElement("span");
    const [g, control] = page.text.tokens ? [page.text.tokens[i], false] : glyph(byte);
    span.textContent = g;
    span.title = g;
    span.style.width = `${CELL}px`;
    if (control) span.className = "ctl";
    span.dataset.pos = page.start + i;
    span.style.background = mainShade(unitValue(page.values, view.unit, i));
    const p = page.start + i;
    if (documentStarts.has(p)) span.classList.add("document-start");
    if (view.hs !== null && p >= view.hs && p < view.he) span.classList.add("brushed");
    strip.appendChild(span);
  });
}

function trackRow(label, values, colour) {
  const row = document.createElement("div");
  row.style.display = "flex";
  const canvas = document.createElement("canvas");
  canvas.width = values.length * CELL; canvas.height = 10;
  canvas.title = label;
  const ctx = canvas.getContext("2d");
  values.forEach((v, i) => { ctx.fillStyle = colour(v); ctx.fillRect(i * CELL, 0, CELL, 10); });
  const name = document.createElement("span");
  name.textContent = " " + label; name.className = "row-label"; name.style.margin = "0";
  row.appendChild(canvas); row.appendChild(name);
  return row;
}

function grey(values) {
  const finite = values.filter((v) => v !== null && isFinite(v));
  const top = Math.max(1e-9, ...finite.map(Math.abs));
  return (v) => (v === null ? "#fff" : `rgb(${[0, 0, 0].map(() => Math.round(255 * (1 - Math.abs(v) / top))).join(",")})`);
}

const CLASS_COLOURS = ["#bbb", "#8c6", "#c86", "#fff", "#68c", "#c6c"];
// Error categories: no error, then the oracle families in peeling order, remaining last.
const ORACLE_COLOURS = ["#fff", "#4477aa", "#66ccee", "#228833", "#ccbb44", "#ee6677", "#aa3377", "#555"];

function drawTracks() {
  const box = $("tracks");
  box.innerHTML = "";
  const described = Object.fromEntries(datasets[view.ds].tracks.map((t) => [t.name, t]));
  for (const [name, values] of Object.entries(page.text.tracks)) {
    const categories = described[name] && described[name].categories;
    const colour = name === "char_class" || categories ? (v) => CLASS_COLOURS[v % CLASS_COLOURS.length] || "#000" : grey(values);
    const row = trackRow(name, values, colour);
    if (categories) row.title = categories.map((c, k) => `${CLASS_COLOURS[k % CLASS_COLOURS.length]}: ${c}`).join("\n");
    box.appendChild(row);
  }
  box.appendChild(trackRow(`${view.model} loss`, page.predictions.loss, grey(page.predictions.loss)));
  if (page.predictions.oracle) {
    const names = modelMeta().oracle_categories;
    const row = trackRow("error category (Figure 6; hover the text)",
      page.predictions.oracle, (v) => ORACLE_COLOURS[v] || "#000");
    row.className = "oracle-track";
    row.title = names.map((name, k) => `${ORACLE_COLOURS[k]}: ${name}`).join("\n");
    box.appendChild(row);
  }
  if (page.predictions.loss_minus_ngram) {
    const diff = page.predictions.loss_minus_ngram;
    const top = Math.max(1e-9, ...diff.filter((v) => v !== null).map(Math.abs));
    box.appendChild(trackRow("loss − n-gram loss", diff, (v) => rgb(v === null ? null : -v / top)));
  }
}

function unitOrder(data) {
  const units = data.units;
  let order = [...Array(units).keys()];
  if (view.sort === "activity") {
    const spread = order.map((u) => {
      let sum = 0, sq = 0;
      for (let t = 0; t < data.positions; t++) { const v = unitValue(data, u, t); sum += v; sq += v * v; }
      const mean = sum / data.positions;
      return sq / data.positions - mean * mean;
    });
    order.sort((a, b) => spread[b] - spread[a]);
  } else if (view.sort === "score" && hyp) {
    order.sort((a, b) => (hyp.score[b] ?? -1e9) - (hyp.score[a] ?? -1e9));
  }
  const pinned = view.pins.filter((u) => u < units);
  return [...pinned, ...order.filter((u) => !pinned.includes(u))];
}

function rowHeight(units) { return units > 256 ? 2 : units > 64 ? 4 : 8; }

function drawHeatmap(canvas, data, label, labelText, interactive, colour, current = view.unit) {
  // The other model's unit of interest (its counterpart) leads its heatmap.
  const order = interactive || current === null ? unitOrder(data)
    : [current, ...unitOrder(data).filter((u) => u !== current)];
  const rh = rowHeight(data.units);
  canvas.width = data.positions * CELL + 6; canvas.height = data.units * rh;
  const ctx = canvas.getContext("2d");
  const selected = new Set(interactive ? chosenUnits() : []);
  order.forEach((u, row) => {
    for (let t = 0; t < data.positions; t++) {
      ctx.fillStyle = colour(unitValue(data, u, t));
      ctx.fillRect(6 + t * CELL, row * rh, CELL, rh);
    }
    ctx.fillStyle = view.pins.includes(u) ? "#000" : selected.has(u) ? "#f90" : u === current ? "#0a0" : "#fff";
    ctx.fillRect(0, row * rh, 5, rh);
  });
  canvas.order = order; canvas.rh = rh; canvas.data = data;
  label.textContent = labelText;
}

function drawHeatmaps() {
  drawHeatmap($("heatmap"), page.values, $("heat-label"),
    `${view.model}${page.snap ? ` at snapshot ${page.snap}` : ""} layer ${view.layer} ${view.state}: ${page.values.units} units × ${page.values.positions} positions ` +
    `(click a row: colour the text by it; shift-click: pin it; sorted by ${view.sort})`, true, mainShade);
  $("compare").hidden = !view.modelB;
  if (view.modelB && page.valuesB) {
    drawHeatmap($("heatmapB"), page.valuesB, $("heatB-label"),
      `${view.modelB} layer ${view.layerB} ${view.stateB}: ${page.valuesB.units} units, same positions` +
      (view.unitB === null ? "" : ` (unit ${view.unitB} on top)`), false,
      (v) => shade(v, transformOf(view.modelB, view.layerB, view.stateB)), view.unitB);
  }
}

// ---------------------------------------------------------------- counterparts (compare view)

// The units of A's layer and state matched one to one with B's (the server's /counterparts,
// inside.atlas.match_units), fetched once per pair of layers and states.
async function loadMatching() {
  if (!view.modelB) { matching = null; return; }
  const key = { layer: view.layer, state: view.state, other: view.modelB, layer_b: view.layerB, state_b: view.stateB };
  if (matching && matching.model === view.model && Object.entries(key).every(([k, v]) => matching[k] === v)) return;
  matching = null;
  matching = await api(`${view.ds}/${view.model}/counterparts`, key);
}

function drawCounterpart() {
  const box = $("counterpart");
  box.innerHTML = "";
  delete box.dataset.counterpart; delete box.dataset.r;
  $("counterpart-strip").innerHTML = "";
  if (!view.modelB || !matching) return;
  const found = matching.counterpart[view.unit];
  if (found === null || found === undefined) {
    box.textContent = `unit ${view.unit} of ${view.model} has no counterpart: ${view.modelB} layer ${view.layerB} has fewer units`;
    return;
  }
  const r = matching.correlation[view.unit];
  const button = document.createElement("button");
  button.id = "counterpart-button";
  button.textContent = `show its counterpart: ${view.modelB} unit ${found}`;
  button.title = "put it on top of the lower heatmap and colour a strip of the text by it";
  button.onclick = () => { view.unitB = found; writeURL(); drawHeatmaps(); drawCounterpart(); };
  box.append(`unit ${view.unit} of ${view.model} layer ${view.layer} ${view.state} ↔ `, button,
    ` r = ${r >= 0 ? "+" : ""}${r.toFixed(3)} (one-to-one matching by |r| over the first ${matching.positions} positions)`);
  box.dataset.counterpart = found; box.dataset.r = r;
  if (view.unitB === null || !page.valuesB) return;
  const values = [...Array(page.valuesB.positions).keys()].map((t) => unitValue(page.valuesB, view.unitB, t));
  const transform = transformOf(view.modelB, view.layerB, view.stateB);
  $("counterpart-strip").appendChild(
    trackRow(`${view.modelB} layer ${view.layerB} ${view.stateB} unit ${view.unitB}`, values, (v) => shade(v, transform)));
}

// ---------------------------------------------------------------- hypothesis, match, precision

async function runHypothesis() {
  hyp = await api(`${view.ds}/${view.model}/hypothesis`, {
    layer: view.layer, state: view.state, start: view.hs, stop: view.he, threshold: view.t,
    sign: view.sign, before: view.before, after: view.after, transform: valueRange.transform,
  });
  drawHypothesis();
  drawHeatmaps();
  await runPrecision();
}

function drawHypothesis() {
  $("hyp-range").textContent = view.hs === null ? "drag over the text to select a range"
    : `positions ${view.hs}–${view.he} (${view.he - view.hs} ${datasets[view.ds].tokens ? "tokens" : "characters"})`;
  drawIntervene(); // the silencing and sampling panels hold the selected units
  const box = $("selected");
  box.innerHTML = "";
  const canvas = $("histogram");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!hyp) return;
  hyp.selected.forEach((u, i) => {
    const span = document.createElement("span");
    span.textContent = u; span.dataset.unit = u;
    if (i === 0) span.className = "first";
    if (view.drop.includes(u)) span.classList.add("dropped");
    span.title = "click: colour the text by this unit; alt-click: leave it out of the match";
    span.onclick = (e) => {
      if (e.altKey) {
        view.drop = view.drop.includes(u) ? view.drop.filter((d) => d !== u) : [...view.drop, u];
        writeURL(); drawHypothesis(); drawHeatmaps(); runPrecision().catch(() => {});
      } else { view.unit = u; load(); }
    };
    box.appendChild(span);
  });
  if (!hyp.selected.length) box.textContent = "(none: lower the threshold or the off-widths)";
  const counts = hyp.histogram, edges = hyp.edges;
  if (!counts.length) return;
  const top = Math.max(...counts), lo = edges[0], hi = edges[edges.length - 1];
  const x = (v) => ((v - lo) / (hi - lo || 1)) * canvas.width;
  counts.forEach((c, i) => {
    ctx.fillStyle = edges[i] >= view.t ? "#f90" : "#99a";
    const left = x(edges[i]);
    const height = c ? Math.max(4, (c / top) * (canvas.height - 12)) : 0; // one unit stays visible
    ctx.fillRect(left, canvas.height - height, Math.max(2, x(edges[i + 1]) - left - 1), height);
  });
  ctx.fillStyle = "#c00";
  ctx.fillRect(x(view.t), 0, 2, canvas.height);
  ctx.fillStyle = "#333"; ctx.font = "10px sans-serif";
  ctx.fillText(`units by their minimum inside the range (${lo.toFixed(2)} … ${hi.toFixed(2)}); red: threshold`, 4, 10);
}

// The units a match and precision/recall use: the hypothesis's, less those left out, best 20.
function chosenUnits() { return hyp ? hyp.selected.filter((u) => !view.drop.includes(u)).slice(0, 20) : []; }
function unitsParam() { return chosenUnits().join(","); }

async function runPrecision() {
  if (!chosenUnits().length || !view.track) { $("precision").textContent = ""; return; }
  const pr = await api(`${view.ds}/${view.model}/precision`, {
    layer: view.layer, state: view.state, units: unitsParam(), threshold: view.t,
    sign: view.sign, track: view.track, transform: valueRange.transform,
  });
  $("precision").textContent =
    `precision ${pr.precision.toFixed(3)}, recall ${pr.recall.toFixed(3)} ` +
    `(${pr.both} of ${pr.predicted} predicted, ${pr.actual} in the track)`;
  $("precision").dataset.precision = pr.precision; $("precision").dataset.recall = pr.recall;
}

async function runMatch() {
  if (!chosenUnits().length) { view.matched = false; return; }
  view.matched = true; writeURL();
  const lengths = { min_length: view.minlen || 1 };
  if (view.maxlen) lengths.max_length = view.maxlen;
  const found = await api(`${view.ds}/${view.model}/match`, {
    layer: view.layer, state: view.state, units: unitsParam(), threshold: view.t, sign: view.sign,
    before: view.before, after: view.after, transform: valueRange.transform, ...lengths,
  });
  const [ahead, behind] = datasets[view.ds].tokens ? [6, 18] : [20, 50];
  const text = await Promise.all(found.matches.map((m) => api(`${view.ds}/text`, {
    start: Math.max(0, m.start - ahead), stop: Math.min(datasets[view.ds].num_positions, m.start + behind),
  })));
  $("match-count").textContent =
    `${found.candidates} candidate ranges for units ${found.units.join(", ")}; best ${found.matches.length}, ` +
    `ranked by selected units on and off ${view.before} before / ${view.after} after (|A∩C|), ` +
    "then other units with that pattern (|A∪C|), then length";
  const list = $("matches");
  list.innerHTML = "";
  found.matches.forEach((m, i) => {
    const li = document.createElement("li");
    const t = text[i];
    const strings = t.text.map((_, k) => tokenAt(t, k));
    const hitLength = Math.min(m.stop - m.start, t.stop - m.start);
    const before = joinTokens(strings.slice(0, m.start - t.start)).padStart(datasets[view.ds].tokens ? 40 : 20);
    const hit = joinTokens(strings.slice(m.start - t.start, m.start - t.start + hitLength));
    const after = joinTokens(strings.slice(m.start - t.start + hitLength));
    li.append(before + (datasets[view.ds].tokens ? " " : ""));
    const span = document.createElement("span"); span.className = "hit"; span.textContent = hit;
    li.append(span, (datasets[view.ds].tokens ? " " : "") + after,
      `   @${m.start} len ${m.stop - m.start} ∩${m.intersection} ∪${m.union}`);
    li.dataset.start = m.start; li.dataset.stop = m.stop;
    li.onclick = () => { view.pos = Math.max(0, m.start - Math.floor(WINDOW / 6)); load(); };
    list.appendChild(li);
  });
  drawMinimap(found);
}

function drawMinimap(found) {
  const canvas = $("minimap");
  canvas.width = WINDOW * CELL;
  const ctx = canvas.getContext("2d");
  const n = found.num_positions;
  ctx.fillStyle = "#f8f8f8"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#bbb";
  for (const s of found.candidate_starts) ctx.fillRect((s / n) * canvas.width, 12, 1, 12);
  ctx.fillStyle = "#d00";
  for (const m of found.matches) ctx.fillRect((m.start / n) * canvas.width, 0, 2, 12);
  ctx.strokeStyle = "#00f";
  ctx.strokeRect((view.pos / n) * canvas.width, 0, Math.max(2, (WINDOW / n) * canvas.width), canvas.height);
  canvas.onclick = (e) => { view.pos = Math.floor((e.offsetX / canvas.width) * n); load(); };
}

// ---------------------------------------------------------------- search

function visible(text) { return text.replace(/\r?\n/g, "↵").replace(/\t/g, "→"); }
function jumpTo(position) { view.pos = Math.max(0, position - Math.floor(WINDOW / 6)); }

async function runSearch() {
  const pattern = $("pattern").value;
  if (!pattern) return;
  view.q = pattern; view.rx = $("regex").checked ? 1 : 0; view.ic = $("nocase").checked ? 1 : 0;
  writeURL();
  searchFound = await api(`${view.ds}/search`,
    { pattern, regex: Boolean(view.rx), case: !view.ic, limit: 200 });
  $("search-count").textContent = `${searchFound.count}${searchFound.truncated ? "+" : ""} hits` +
    (searchFound.count > searchFound.hits.length ? `, the first ${searchFound.hits.length} listed` : "") +
    " (click one: go there; hypothesis: select it as the range)";
  const list = $("hits");
  list.innerHTML = "";
  for (const hit of searchFound.hits) {
    const li = document.createElement("li");
    li.dataset.start = hit.start; li.dataset.stop = hit.stop;
    const span = document.createElement("span"); span.className = "hit"; span.textContent = visible(hit.match);
    li.append(visible(hit.before).padStart(40), span, visible(hit.after).padEnd(40), `  @${hit.start}`);
    const seed = document.createElement("button");
    seed.textContent = "hypothesis"; seed.className = "seed";
    seed.title = "select this hit as the hypothesis's range";
    seed.onclick = (e) => {
      e.stopPropagation();
      view.hs = hit.start; view.he = hit.stop; view.matched = false; view.drop = []; jumpTo(hit.start);
      load().catch(() => {});
    };
    li.append(seed);
    li.onclick = () => { jumpTo(hit.start); load().catch(() => {}); };
    list.appendChild(li);
  }
  drawSearchMinimap();
}

function drawSearchMinimap() {
  const canvas = $("search-minimap");
  canvas.width = WINDOW * CELL;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#f8f8f8"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!searchFound) return;
  const n = searchFound.num_positions;
  ctx.fillStyle = "#e80";
  for (const s of searchFound.starts) ctx.fillRect((s / n) * canvas.width, 0, 1, canvas.height);
  ctx.strokeStyle = "#00f";
  ctx.strokeRect((view.pos / n) * canvas.width, 0, Math.max(2, (WINDOW / n) * canvas.width), canvas.height);
  canvas.onclick = (e) => { view.pos = Math.floor((e.offsetX / canvas.width) * n); load().catch(() => {}); };
}

// ---------------------------------------------------------------- which units track this?

async function runRank() {
  view.rtrack = $("rank-track").value; view.rby = $("rank-by").value; writeURL();
  $("rank-note").textContent = "ranking every unit…";
  ranking = await api(`${view.ds}/${view.model}/rank`, {
    layer: view.layer, state: view.state, track: view.rtrack, by: view.rby,
    threshold: view.t, sign: view.sign, transform: valueRange.transform,
  });
  ranking.where = `${view.model} layer ${view.layer} ${view.state}`;
  drawRanking();
}

function drawRanking() {
  const table = $("ranking");
  const head = table.tHead, body = table.tBodies[0];
  head.innerHTML = ""; body.innerHTML = "";
  if (!ranking) return;
  const names = Object.keys(ranking.scores).filter((k) => !["predicted", "both"].includes(k));
  $("rank-note").textContent = `${ranking.where} against ${ranking.track} (${ranking.kind}` +
    (ranking.kind === "binary" ? `, on above ${ranking.sign > 0 ? "+" : "−"}${ranking.threshold} of ${ranking.transform}` : "") +
    `), by ${ranking.by}; click a unit: colour the text by it; shift-click: pin it`;
  const row = document.createElement("tr");
  for (const name of ["rank", "unit", ...names]) {
    const th = document.createElement("th"); th.textContent = name; row.appendChild(th);
  }
  head.appendChild(row);
  ranking.units.slice(0, 20).forEach((unit, i) => {
    const tr = document.createElement("tr");
    tr.dataset.unit = unit;
    if (unit === view.unit) tr.className = "current";
    for (const value of [i + 1, unit, ...names.map((k) => ranking.scores[k][i])]) {
      const td = document.createElement("td");
      td.textContent = typeof value === "number" && !Number.isInteger(value) ? value.toFixed(3) : value ?? "n/a";
      tr.appendChild(td);
    }
    tr.onclick = (e) => {
      if (e.shiftKey) view.pins = view.pins.includes(unit) ? view.pins.filter((u) => u !== unit) : [...view.pins, unit];
      else view.unit = unit;
      load().catch(() => {});
    };
    body.appendChild(tr);
  });
}

// ---------------------------------------------------------------- live text

// Why the model cannot run `what` (live text, silencing, sampling), or "" when it can.
function checkpointReady(what) {
  const meta = modelMeta();
  if (datasets[view.ds].tokens || !meta.checkpoint) {
    return `${view.model} has no checkpoint (${datasets[view.ds].tokens ? "an imported network's states" : "no model to run"}): ${what} needs a grid model of this pipeline`;
  }
  return "";
}
function liveReady() { return checkpointReady("live text"); }

async function runLive() {
  const why = liveReady();
  if (why) { $("live-note").textContent = why; return; }
  $("live-summary").textContent = "running…";
  const response = await fetch(`/api/${view.ds}/${view.model}/live`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text: $("live-text").value, layer: view.layer, state: view.state }),
  });
  const body = await response.json();
  if (!response.ok) { $("live-summary").textContent = ""; showError(`${response.status}: ${body.detail}`); return; }
  showError("");
  liveAnswer = { ...body, model: view.model, values: Float32Array.from(body.values, (v) => (v === null ? NaN : v)) };
  drawLive();
}

function drawLive() {
  const why = liveReady();
  $("live-note").textContent = why || `${view.model}, from the start of the text (at most ${limits.live_max_chars} characters)`;
  $("live-button").disabled = Boolean(why);
  const strip = $("live-strip");
  strip.innerHTML = "";
  const a = liveAnswer;
  if (!a || a.model !== view.model || a.layer !== view.layer || a.state !== view.state) {
    $("live-heatmap").width = 0; $("live-heatmap").height = 0;
    if (a) $("live-summary").textContent = "(run it again for this model, layer and state)";
    return;
  }
  $("live-summary").textContent = `${a.positions} characters, loss ${a.mean_loss === null ? "n/a" : a.mean_loss.toFixed(3)} ` +
    `nats per character, in ${(a.seconds * 1000).toFixed(0)} ms; layer ${a.layer} ${a.state}, unit ${view.unit}`;
  const unit = Math.min(view.unit, a.units - 1);
  a.text.forEach((byte, i) => {
    const span = document.createElement("span");
    const [g, control] = glyph(byte);
    span.textContent = g; span.style.width = `${CELL}px`; span.dataset.i = i;
    if (control) span.className = "ctl";
    span.style.background = mainShade(a.values[unit * a.positions + i]);
    const next = a.top_ids[i].map((id, k) => `${symbolName(id).padEnd(6)} ${(a.top_p[i][k] ?? 0).toFixed(3)}`);
    span.title = `position ${i}, unit ${unit} = ${a.values[unit * a.positions + i].toFixed(3)}\n` +
      `top-${next.length} next characters:\n${next.join("\n")}\nloss ${a.loss[i] === null ? "n/a" : a.loss[i].toFixed(3)}`;
    strip.appendChild(span);
  });
  drawHeatmap($("live-heatmap"), { units: a.units, positions: a.positions, values: a.values },
    document.createElement("span"), "", false, mainShade);
}

// ---------------------------------------------------------------- silencing and clamped sampling

let silenceAnswer = null; // the last /silence answer
let sampleAnswer = null; // the last /sample answer
// The states a checkpoint can hold (visrnn.inside.interventions.HELD_STATES).
const HELD_STATES = { rnn: ["h"], lstm: ["c", "h"], gru: ["h"] };

function heldUnits() { const chosen = chosenUnits(); return chosen.length ? chosen : [view.unit]; }

function interveneReady(what) {
  const why = checkpointReady(what);
  if (why) return why;
  const held = HELD_STATES[modelMeta().model_type] || [];
  if (!held.includes(view.state)) return `state ${view.state} cannot be held: choose ${held.join(" or ")} in the header`;
  return "";
}

// A POST to the API; shows the server's refusal (400, 404, 429 ...) and throws.
async function post(path, body) {
  const response = await fetch("/api/" + path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) { showError(`${response.status}: ${answer.detail}`); throw new Error(answer.detail); }
  showError("");
  return answer;
}

function decodeBytes(bytes) { return new TextDecoder().decode(Uint8Array.from(bytes)); }
function fixed(value, digits = 3) { return value === null || value === undefined ? "n/a" : value.toFixed(digits); }

function drawIntervene() {
  const units = heldUnits();
  $("silence-units").textContent = `${units.join(", ")} of layer ${view.layer} ${view.state}`;
  const whySilence = interveneReady("silencing"), whySample = interveneReady("sampling");
  $("silence-note").textContent = whySilence || `${view.model}: the checkpoint's own equations, intact and with the units held, from position ${view.pos} on`;
  $("clamp-note").textContent = whySample || `${view.model}: from position ${view.pos}, with and without the units held, the same seed`;
  $("silence-button").disabled = Boolean(whySilence);
  $("clamp-button").disabled = Boolean(whySample);
  $("silence-positions").max = String(limits.max_silenced || 3000);
  $("clamp-length").max = String(limits.max_sample || 2000);
  if (silenceAnswer && silenceAnswer.model !== view.model) { silenceAnswer = null; drawSilence(); }
  if (sampleAnswer && sampleAnswer.model !== view.model) { sampleAnswer = null; drawSamples(); }
}

async function runSilence() {
  const why = interveneReady("silencing");
  if (why) { $("silence-note").textContent = why; return; }
  const size = Math.min(modelMeta().num_positions, datasets[view.ds].num_positions);
  const count = Math.max(1, Math.min(Number($("silence-positions").value) || 1, limits.max_silenced || 3000));
  $("silence-summary").textContent = "running…";
  try {
    const answer = await post(`${view.ds}/${view.model}/silence`, {
      layer: view.layer, state: view.state, units: heldUnits().join(","), start: view.pos,
      stop: Math.min(size, view.pos + count), silence: $("silence-mode").value,
    });
    silenceAnswer = { ...answer, model: view.model };
  } finally { $("silence-summary").textContent = ""; }
  drawSilence();
}

function drawSilence() {
  const strip = $("silence-strip"), table = $("silence-categories");
  strip.innerHTML = ""; table.tHead.innerHTML = ""; table.tBodies[0].innerHTML = "";
  const a = silenceAnswer;
  if (!a) { $("silence-summary").textContent = ""; return; }
  const all = a.categories[0];
  $("silence-summary").textContent = `${a.clamps.join(", ")}: loss ${fixed(all.loss)} → ${fixed(all.silenced_loss)} ` +
    `(${all.delta_loss >= 0 ? "+" : ""}${fixed(all.delta_loss)}) nats per character, errors ${all.errors} → ${all.silenced_errors}, ` +
    `positions ${a.start}–${a.stop - 1} (state from position ${a.read_from})`;
  const deltas = a.loss.map((before, i) => (before === null || a.silenced_loss[i] === null ? null : a.silenced_loss[i] - before));
  // Full colour at the window's largest change (at least 0.05 nats), so small ones show.
  const scale = Math.max(0.05, ...deltas.filter((d) => d !== null).map(Math.abs));
  a.text.forEach((byte, i) => {
    const span = document.createElement("span");
    const [g, control] = glyph(byte);
    span.textContent = g; span.style.width = `${CELL}px`;
    if (control) span.className = "ctl";
    const delta = deltas[i];
    span.style.background = delta === null ? rgb(null) : rgb(-delta / scale);
    if (a.argmax[i] !== a.silenced_argmax[i]) span.classList.add("changed");
    span.title = `position ${a.start + i}: p(next) ${fixed(a.p_target[i])} → ${fixed(a.silenced_p_target[i])} silenced` +
      `\nloss change ${delta === null ? "n/a" : (delta >= 0 ? "+" : "") + delta.toFixed(3)}` +
      `\nlikeliest next: ${symbolName(a.argmax[i])} → ${symbolName(a.silenced_argmax[i])}`;
    strip.appendChild(span);
  });
  const head = document.createElement("tr");
  for (const name of ["category (intact model's error)", "positions", "loss", "silenced", "Δ loss", "errors", "silenced"]) {
    const th = document.createElement("th"); th.textContent = name; head.appendChild(th);
  }
  table.tHead.appendChild(head);
  for (const row of a.categories) {
    const tr = document.createElement("tr");
    for (const value of [row.category, row.positions, fixed(row.loss), fixed(row.silenced_loss),
      row.delta_loss === null ? "n/a" : (row.delta_loss >= 0 ? "+" : "") + row.delta_loss.toFixed(3),
      row.errors, row.silenced_errors]) {
      const td = document.createElement("td"); td.textContent = value; tr.appendChild(td);
    }
    table.tBodies[0].appendChild(tr);
  }
}

async function runSample() {
  const why = interveneReady("sampling");
  if (why) { $("clamp-note").textContent = why; return; }
  $("clamp-summary").textContent = "running…";
  try {
    const answer = await post(`${view.ds}/${view.model}/sample`, {
      layer: view.layer, state: view.state, units: heldUnits().join(","), position: view.pos,
      value: Number($("clamp-value").value), length: Number($("clamp-length").value),
      temperature: Number($("clamp-temperature").value), seed: Number($("clamp-seed").value),
    });
    sampleAnswer = { ...answer, model: view.model };
  } finally { $("clamp-summary").textContent = ""; }
  drawSamples();
}

function drawSamples() {
  const a = sampleAnswer;
  for (const [id, key] of [["sample-free", "unclamped"], ["sample-held", "clamped"]]) {
    const pre = $(id);
    pre.innerHTML = "";
    if (!a) continue;
    const prime = document.createElement("span");
    prime.className = "prime";
    prime.textContent = decodeBytes(a.prime.slice(-80));
    prime.title = `what the model read: the text up to position ${a.position}`;
    pre.append(prime, decodeBytes(a[key]));
  }
  $("sample-held-title").textContent = a ? `clamped: ${a.clamps.join(", ")}` : "clamped";
  $("clamp-summary").textContent = a ? `seed ${a.seed}, ${a.unclamped.length} characters each, after position ${a.position}` : "";
}

// ---------------------------------------------------------------- top examples

async function loadTop() {
  const top = await api(`${view.ds}/${view.model}/top`,
    { layer: view.layer, state: view.state, unit: view.unit, k: 5, width: datasets[view.ds].tokens ? 14 : 60 });
  $("top-unit").textContent = `${view.unit} (layer ${view.layer} ${view.state})`;
  for (const [key, id] of [["highest", "top-high"], ["lowest", "top-low"]]) {
    const list = $(id);
    list.innerHTML = "";
    for (const row of top[key]) {
      const li = document.createElement("li");
      row.text.forEach((b, i) => {
        const span = document.createElement("span");
        span.textContent = tokenAt(row, i) + (row.tokens ? " " : "");
        span.style.background = mainShade(row.values[i]);
        li.appendChild(span);
      });
      li.append(`  ${row.value.toFixed(2)} @${row.position}`);
      li.onclick = () => { view.pos = Math.max(0, row.position - Math.floor(WINDOW / 6)); load(); };
      list.appendChild(li);
    }
  }
}

// ---------------------------------------------------------------- events

function stripPosition(event) {
  const target = event.target.closest("span[data-pos]");
  return target ? Number(target.dataset.pos) : null;
}

function markBrush(from, to) {
  const [a, b] = [Math.min(from, to), Math.max(from, to)];
  for (const span of $("strip").children) {
    const p = Number(span.dataset.pos);
    span.classList.toggle("brushed", p >= a && p <= b);
  }
}

function showTooltip(event) {
  const p = stripPosition(event);
  const tip = $("tooltip");
  if (p === null || !page) { tip.hidden = true; return; }
  const i = p - page.start;
  const pred = page.predictions;
  const name = (id, k) => (pred.top_tokens ? `"${pred.top_tokens[i][k]}"` : symbolName(id));
  const lines = pred.top_ids[i].map((id, k) => `${name(id, k).padEnd(6)} ${(pred.top_p[i][k] ?? 0).toFixed(3)}`);
  const next = i + 1 < page.text.text.length ? tokenAt(page.text, i + 1) : "?";
  const category = pred.oracle ? `\nerror category: ${modelMeta().oracle_categories[pred.oracle[i]]}` : "";
  tip.textContent = `position ${p}, unit ${view.unit} = ${unitValue(page.values, view.unit, i).toFixed(3)}\n` +
    `top-${lines.length} next ${datasets[view.ds].tokens ? "tokens" : "characters"}:\n${lines.join("\n")}\np(target "${next}") = ${pred.p_target[i] ?? "n/a"}${category}`;
  tip.hidden = false;
  tip.style.left = `${event.pageX + 12}px`; tip.style.top = `${event.pageY + 16}px`;
}

function heatmapClick(event) {
  const canvas = event.currentTarget;
  if (!canvas.order) return;
  const unit = canvas.order[Math.floor(event.offsetY / canvas.rh)];
  if (unit === undefined) return;
  if (event.shiftKey) {
    view.pins = view.pins.includes(unit) ? view.pins.filter((u) => u !== unit) : [...view.pins, unit];
  } else view.unit = unit;
  load();
}

function bind() {
  const reload = (key, parse = (v) => v) => (e) => { view[key] = parse(e.target.value); load().catch(() => {}); };
  $("ds").onchange = (e) => { view.ds = e.target.value; view.model = ""; view.state = ""; view.hs = view.he = null; hyp = null; load(); };
  $("model").onchange = (e) => { view.model = e.target.value; view.state = ""; view.snap = ""; hyp = null; view.hs = view.he = null; load(); };
  $("snapshot").onchange = reload("snap");
  $("layer").onchange = reload("layer", Number);
  $("state").onchange = reload("state");
  $("modelB").onchange = (e) => { view.modelB = e.target.value; view.stateB = ""; view.unitB = null; load(); };
  $("layerB").onchange = (e) => { view.layerB = Number(e.target.value); view.unitB = null; load().catch(() => {}); };
  $("stateB").onchange = (e) => { view.stateB = e.target.value; view.unitB = null; load().catch(() => {}); };
  $("pos").onchange = reload("pos", Number);
  $("unit").onchange = reload("unit", Number);
  $("sort").onchange = reload("sort");
  $("track").onchange = (e) => { view.track = e.target.value; writeURL(); runPrecision().catch(() => {}); };
  let pending = null;
  const rehyp = () => { writeURL(); clearTimeout(pending); pending = setTimeout(() => { if (view.hs !== null) runHypothesis().catch(() => {}); }, 120); };
  $("threshold").oninput = (e) => { view.t = Number(e.target.value); $("threshold-value").textContent = view.t; rehyp(); };
  $("sign").onchange = (e) => { view.sign = Number(e.target.value); rehyp(); };
  $("before").onchange = (e) => { view.before = Number(e.target.value); rehyp(); };
  $("after").onchange = (e) => { view.after = Number(e.target.value); rehyp(); };
  $("transform").onchange = (e) => { view.tf = e.target.value; load().catch(() => {}); };
  $("minlen").onchange = (e) => { view.minlen = Math.max(1, Number(e.target.value) || 1); writeURL(); };
  $("maxlen").onchange = (e) => { view.maxlen = e.target.value ? Number(e.target.value) : null; writeURL(); };
  $("match-button").onclick = () => runMatch().catch(() => {});
  const strip = $("strip");
  strip.onmousedown = (e) => { brushFrom = stripPosition(e); if (brushFrom !== null) markBrush(brushFrom, brushFrom); };
  strip.onmousemove = (e) => {
    showTooltip(e);
    const p = stripPosition(e);
    if (brushFrom !== null && p !== null) markBrush(brushFrom, p);
  };
  strip.onmouseleave = () => { $("tooltip").hidden = true; };
  document.addEventListener("mouseup", (e) => {
    if (brushFrom === null) return;
    const p = stripPosition(e) ?? brushFrom;
    view.hs = Math.min(brushFrom, p); view.he = Math.max(brushFrom, p) + 1;
    brushFrom = null; view.matched = false; view.drop = []; writeURL();
    runHypothesis().catch(() => {});
  });
  $("heatmap").onclick = heatmapClick;
  $("search-button").onclick = () => runSearch().catch(() => {});
  $("pattern").onkeydown = (e) => { if (e.key === "Enter") runSearch().catch(() => {}); };
  $("rank-track").onchange = (e) => { view.rtrack = e.target.value; view.rby = ""; fillSelects(); writeURL(); };
  $("rank-by").onchange = (e) => { view.rby = e.target.value; writeURL(); };
  $("rank-button").onclick = () => runRank().catch(() => {});
  $("rank-pin").onclick = () => { if (ranking) { view.pins = ranking.units.slice(0, 5); load().catch(() => {}); } };
  $("live-button").onclick = () => runLive().catch(() => {});
  $("silence-button").onclick = () => runSilence().catch(() => {});
  $("clamp-button").onclick = () => runSample().catch(() => {});
}

async function main() {
  readURL();
  bind();
  try {
    const body = await api("datasets");
    datasets = body.datasets;
    if (body.palette) palette = body.palette;
    if (body.limits) limits = body.limits;
    if (!Object.keys(datasets).length) { showError("no explorer outputs in this results directory: run snakemake first"); return; }
    if (!(view.ds in datasets)) view.ds = "";
    if (view.ds && !(view.model in datasets[view.ds].models)) view.model = "";
    await load();
    if (view.q) await runSearch();
    document.body.dataset.ready = "1";
  } catch (e) {
    document.body.dataset.ready = "1";
  }
}

main();
