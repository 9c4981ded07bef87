// The studio: one current input, shared by every page; each page asks the JSON API about it.
"use strict";

const Studio = (() => {
  const $ = (id) => document.getElementById(id);
  const state = { models: [], model: null, blob: null, acts: null, detail: null,
    neuron: null, version: 0, page: "predict", camAvailable: false };

  function status(text, error = false) {
    $("status").textContent = text;
    $("status").className = "status" + (error ? " error" : "");
  }

  async function api(path, params = {}) {
    const query = new URLSearchParams({ model: state.model.id, ...params });
    const form = new FormData();
    form.append("image", state.blob, "input.png");
    const response = await fetch(`${path}?${query}`, { method: "POST", body: form });
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || response.statusText);
    return body;
  }

  // A new drawing or photo: make the model-size image, then refresh the visible page.
  async function inputChanged(error) {
    if (error instanceof Error) { status(error.message, true); return; }
    const [h, w, c] = state.model.input_shape;
    const img = Drawing.modelImage(h, w, c);
    const seen = $("seen");
    seen.width = w; seen.height = h;
    seen.getContext("2d").drawImage(img, 0, 0);
    state.blob = await new Promise((resolve) => img.toBlob(resolve, "image/png"));
    state.version += 1;
    state.acts = null;
    await refresh();
  }

  async function refresh() {
    if (!state.blob) return;
    const version = state.version;
    status("thinking…");
    try {
      if (state.page === "predict") {
        const k = Math.min(10, state.model.classes.length);
        const answer = await api("/api/predict", { top_k: k });
        if (version === state.version) Pages.prediction($("prediction"), answer);  // not stale
      } else if (state.page === "overview") {
        await loadActivations();
        Pages.overview($("overview"), state.acts, state.model.classes, openNeuron);
      } else if (state.page === "neuron") {
        await loadActivations();
        fillNeuronControls();
        await showNeuron();
      } else if (state.page === "why") {
        await showCam();
      }
      if (version === state.version) status("");
    } catch (err) {
      status(err.message, true);
    }
  }

  async function loadActivations() {
    if (!state.acts) state.acts = await api("/api/activations");
  }

  // ---------------------------------------------------------------- Inside a neuron
  // The cell to open first: the channel's strongest one (the centre is often empty background).
  function strongest(layer, channel) {
    const m = layer.maps && layer.maps[channel];
    if (!m) return [Math.floor(layer.shape[1] / 2), Math.floor(layer.shape[2] / 2)];
    let best = [0, 0];
    m.forEach((row, r) => row.forEach((v, c) => { if (v > m[best[0]][best[1]]) best = [r, c]; }));
    return best;
  }
  function explainable() { return state.acts.layers.filter((l) => l.explainable); }

  function fillNeuronControls() {
    const layers = explainable();
    if (!state.neuron || !layers.some((l) => l.name === state.neuron.layer)) {
      const l = layers[0];
      const [row, col] = strongest(l, 0);
      state.neuron = { layer: l.name, channel: 0, row, col };
    }
    const layerSel = $("neuron-layer");
    layerSel.replaceChildren(...layers.map((l) => new Option(`${l.name} (${l.type})`, l.name)));
    layerSel.value = state.neuron.layer;
    const layer = layers.find((l) => l.name === state.neuron.layer);
    const channels = layer.shape[layer.shape.length - 1];
    $("neuron-channel").replaceChildren(...Array.from({ length: channels }, (_, i) => new Option(String(i), String(i))));
    $("neuron-channel").value = String(state.neuron.channel);
  }

  async function showNeuron() {
    const n = state.neuron;
    const d = await api("/api/explain", { layer: n.layer, channel: n.channel, row: n.row, col: n.col });
    state.detail = d;
    $("neuron-where").textContent = `cell (${d.row}, ${d.col}) of channel ${d.channel}`;
    $("neuron-in-title").textContent = `layer input, channel${d.input_channels.length > 1 ? "s" : ""} `
      + `${d.input_channels.length > 1 ? d.input_channels[0] + "–" + d.input_channels.at(-1) : d.input_channels[0]} (red: the window)`;
    $("neuron-out-title").textContent = `${d.layer} output, channel ${d.channel} (red: this cell)`;
    Pages.neuronMaps($("neuron-inputs"), $("neuron-out"), d, (row, col) => openNeuron(n.layer, n.channel, row, col));
    Pages.neuronDetail($("neuron-detail"), d);
  }

  function openNeuron(layer, channel, row, col) {
    state.neuron = { layer, channel, row, col };
    show("neuron");
  }

  // ---------------------------------------------------------------- Why
  async function showCam() {
    const sel = $("cam-target");
    if (!sel.options.length) {
      sel.replaceChildren(new Option("predicted class", ""), ...state.model.classes.map((c, i) => new Option(c, String(i))));
    }
    const params = sel.value === "" ? {} : { target: sel.value };
    const d = await api("/api/cam", params);
    Pages.cam($("cam-input"), $("cam-overlay"), $("seen"), d.heatmap, $("cam-alpha").value / 100);
    Pages.heatLegend($("cam-legend"));
    $("cam-note").textContent = `Grad-CAM for class “${d.class}” (p = ${(100 * d.probability).toFixed(1)}%) ` +
      `from layer ${d.layer}, upsampled to ${d.heatmap.length}×${d.heatmap[0].length}.`;
  }

  // ---------------------------------------------------------------- Model
  async function showModel() {
    const info = await (await fetch(`/api/models/${encodeURIComponent(state.model.id)}`)).json();
    Pages.model(info, { title: $("model-title"), facts: $("model-facts"), charts: $("charts"), summary: $("summary"), totals: $("totals") });
  }

  function clearInput() {
    Drawing.clear();
    state.blob = null; state.acts = null; state.version += 1;
    $("seen").getContext("2d").clearRect(0, 0, 1e4, 1e4);
    $("prediction").innerHTML = '<p class="muted">Draw something to see what the model thinks.</p>';
    status("");
  }

  // ---------------------------------------------------------------- Tabs and start-up
  function show(page) {
    state.page = page;
    for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === page);
    for (const p of document.querySelectorAll(".page")) p.classList.toggle("active", p.id === `page-${page}`);
    if (page === "model") showModel().catch((e) => status(e.message, true));
    else refresh();
  }

  async function selectModel(id) {
    state.model = state.models.find((m) => m.id === id);
    state.acts = null; state.neuron = null;
    $("cam-target").replaceChildren();
    const [h, w, c] = state.model.input_shape;
    $("seen-shape").textContent = `${h}×${w}×${c}, ${c === 1 ? "grey" : "colour"}`;
    $("draw-hint").textContent = c === 1 ? "Draw a digit with the mouse, pen or finger." : "Upload a photo (or draw something).";
    if (state.blob) await inputChanged();
    else if (state.page === "model") show("model");
  }

  async function start() {
    state.models = await (await fetch("/api/models")).json();
    const openapi = await (await fetch("/openapi.json")).json();
    state.camAvailable = "/api/cam" in openapi.paths;
    $("tab-why").hidden = !state.camAvailable;
    const select = $("model-select");
    select.replaceChildren(...state.models.map((m) => new Option(m.name === m.id ? m.id : `${m.id} (${m.name})`, m.id)));
    select.addEventListener("change", () => selectModel(select.value));
    Drawing.init($("draw"), inputChanged);
    $("clear").addEventListener("click", clearInput);
    $("upload").addEventListener("change", (e) => { if (e.target.files[0]) Drawing.loadPhoto(e.target.files[0], $("invert").checked); });
    $("neuron-layer").addEventListener("change", (e) => { const l = state.acts.layers.find((x) => x.name === e.target.value); openNeuron(l.name, 0, ...strongest(l, 0)); });
    $("neuron-channel").addEventListener("change", (e) => openNeuron(state.neuron.layer, Number(e.target.value), state.neuron.row, state.neuron.col));
    $("cam-target").addEventListener("change", () => refresh());
    $("cam-alpha").addEventListener("input", () => refresh());
    for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => show(b.dataset.tab));
    await selectModel(state.models[0].id);
    document.body.dataset.ready = "1";
  }

  start().catch((err) => status(err.message, true));
  return { state };
})();
