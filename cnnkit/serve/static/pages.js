// Renderers of the five pages; each takes the JSON the API answered and draws it.
"use strict";

const Pages = (() => {
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k === "style") node.style.cssText = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  };
  const fmt = (v, digits = 4) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3)
    ? v.toExponential(2) : Number(v.toPrecision(digits)).toString());
  const shape = (s) => "(" + s.map((d) => (d === null ? "None" : d)).join(", ") + ")";
  // Overview columns are narrow: "26×26×6" without the batch axis (the Keras shape is the tooltip).
  const compact = (s) => s.filter((d) => d !== null).join("×");

  // ---------------------------------------------------------------- Predict
  function prediction(box, answer) {
    const best = answer.top[0];
    box.replaceChildren(
      el("div", { class: "top1", id: "top-class", "data-class": best.class },
        el("b", {}, best.class), `${(100 * best.probability).toFixed(1)}% sure`),
      ...answer.top.map((t, i) => el("div", { class: "bar" + (i === 0 ? " first" : "") },
        el("span", { class: "name", title: t.class }, t.class),
        el("div", { class: "track" }, el("div", { class: "fill", style: `width:${(100 * t.probability).toFixed(2)}%` })),
        el("span", { class: "pct" }, `${(100 * t.probability).toFixed(2)}%`))),
    );
  }

  // ---------------------------------------------------------------- Overview
  const TILE = 52;

  function mapCanvas(m, lo, hi, size, gray) {
    const c = el("canvas", { class: "map" });
    Colors.drawMatrix(c, m, lo, hi, gray ? "gray" : "viridis");
    c.style.width = `${size}px`;
    c.style.height = `${Math.round((size * m.length) / m[0].length)}px`;
    return c;
  }

  function overview(box, acts, classes, onCell) {
    const cols = [];
    const input = acts.input;
    cols.push(el("div", { class: "layer-col" },
      el("header", { title: shape(input.shape) }, el("b", {}, "input"), el("br"), compact(input.shape)),
      ...input.maps.map((m) => mapCanvas(m, 0, 255, TILE, true))));
    acts.layers.forEach((layer, index) => {
      const head = el("header", { title: `${layer.type} ${shape(layer.shape)}` },
        el("b", {}, layer.name), layer.type, el("br"), compact(layer.shape));
      const col = el("div", { class: "layer-col" + (layer.explainable ? " explainable" : ""), "data-layer": layer.name }, head);
      if (layer.maps) {
        // More than 8 channels: two tiles per row, so a column stays about one screen tall.
        const wide = layer.maps.length > 8;
        const grid = el("div", { class: wide ? "tile-grid two" : "tile-grid" });
        col.append(grid);
        layer.maps.forEach((m, ch) => {
          const c = mapCanvas(m, layer.min, layer.max, wide ? 44 : TILE, false);
          c.dataset.channel = ch;
          c.title = `${layer.name} channel ${ch}`;
          if (layer.explainable) c.addEventListener("click", (e) => onCell(layer.name, ch, ...Colors.cellAt(c, e)));
          grid.append(c);
        });
        const total = layer.shape[layer.shape.length - 1];
        if (total > layer.maps.length) col.append(el("span", { class: "more" }, `first ${layer.maps.length} of ${total}`));
      } else if (index === acts.layers.length - 1 && layer.values.length === classes.length) {
        col.append(el("div", { class: "out-list" }, ...layer.values.map((v, i) => el("div", {},
          el("span", { class: "sw", style: `background:${Colors.css(Colors.ramp(Colors.VIRIDIS, v))}` }),
          `${classes[i]} ${v.toFixed(3)}`))));
      } else {
        const shown = layer.values.slice(0, 256);
        const c = mapCanvas(shown.map((v) => [v]), layer.min, layer.max, 14, false);
        c.style.height = `${Math.min(6 * shown.length, 420)}px`;
        col.append(c);
        if (layer.values.length > shown.length) col.append(el("span", { class: "more" }, `first 256 of ${layer.values.length}`));
      }
      cols.push(col);
    });
    box.replaceChildren(...cols);
  }

  // ---------------------------------------------------------------- Inside a neuron
  function numTable(m, lo, hi, colour, winner) {
    const table = el("table", { class: "nums" });
    m.forEach((row, r) => table.append(el("tr", {}, ...row.map((v, c) => {
      const rgb = colour === "div" ? Colors.diverging(v, Math.max(Math.abs(lo), Math.abs(hi)))
        : Colors.ramp(Colors.VIRIDIS, (v - lo) / (hi - lo || 1));
      const light = colour === "div" || (v - lo) / (hi - lo || 1) > 0.6;
      const cls = winner && winner[0] === r && winner[1] === c ? "win" : "";
      return el("td", { class: cls, style: `background:${Colors.css(rgb)};color:${light ? "#111" : "#fff"}` }, fmt(v, 3));
    }))));
    return table;
  }

  const channel = (a, k) => a.map((row) => row.map((v) => v[k]));
  const range = (m) => { const f = m.flat(2); return [Math.min(...f), Math.max(...f)]; };

  function neuronMaps(inputsBox, outCanvas, d, onCell) {
    const [lo, hi] = range(d.input_maps);
    const size = d.input_maps.length === 1 ? 196 : d.input_maps.length <= 6 ? 112 : 84;
    inputsBox.replaceChildren(...d.input_maps.map((m, i) => {
      const c = el("canvas", { class: "map", title: `input channel ${d.input_channels[i]}`,
        style: `width:${size}px;height:${size}px` });
      Colors.drawMatrix(c, m, lo, hi);
      const ctx = c.getContext("2d");
      ctx.strokeStyle = "#ff2d2d"; ctx.lineWidth = 1;
      ctx.strokeRect(d.origin[1] + 0.5, d.origin[0] + 0.5, d.window_size[1] - 1, d.window_size[0] - 1);
      return c;
    }));
    const [olo, ohi] = range(d.output_map);
    Colors.drawMatrix(outCanvas, d.output_map, olo, ohi);
    const ctx = outCanvas.getContext("2d");
    ctx.fillStyle = "rgba(255,45,45,.85)";
    ctx.fillRect(d.col, d.row, 1, 1);
    outCanvas.onclick = (e) => onCell(...Colors.cellAt(outCanvas, e));
  }

  function neuronDetail(box, d) {
    const parts = [];
    if (d.kind === "conv") {
      const [wlo, whi] = range(d.window), [klo, khi] = range(d.kernel), [plo, phi] = range(d.products);
      const groups = d.input_channels.slice(0, 16).map((ch, k) => el("div", { class: "grid-group" },
        el("div", {}, el("div", { class: "label" }, `input ch ${ch}`), numTable(channel(d.window, k), wlo, whi)),
        el("span", { class: "op" }, "⊙"),
        el("div", {}, el("div", { class: "label" }, "kernel"), numTable(channel(d.kernel, k), klo, khi, "div")),
        el("span", { class: "op" }, "="),
        el("div", {}, el("div", { class: "label" }, "products"), numTable(channel(d.products, k), plo, phi, "div"))));
      if (d.input_channels.length > 16) groups.push(el("p", { class: "muted" }, `first 16 of ${d.input_channels.length} input channels shown; the sum covers all`));
      const act = d.activation === "linear" ? "no activation" : `${d.activation}(${fmt(d.pre_activation)})`;
      parts.push(el("div", { class: "grids" }, ...groups),
        el("div", { class: "sum" },
          el("div", { id: "sum-text" }, d.sum_text),
          el("div", {}, `${fmt(d.sum)} + bias (${fmt(d.bias)}) = ${fmt(d.pre_activation)}`),
          el("div", {}, `${act} → `, el("span", { class: "result", id: "neuron-value" }, fmt(d.activated)))));
      const ok = Math.abs(d.activated - d.output) <= 1e-4 * Math.max(1, Math.abs(d.output));
      parts.push(el("div", { class: ok ? "check-ok" : "check-bad" },
        `${ok ? "✓" : "✗"} the layer itself computed ${fmt(d.output)} at (${d.row}, ${d.col}, channel ${d.channel})`));
    } else {
      const w = channel(d.window, 0), [lo, hi] = range(d.window);
      const values = w.flat().map((v) => fmt(v, 3)).join(", ");
      const op = d.mode === "max" ? "max" : "mean";
      parts.push(el("div", { class: "grids" }, el("div", { class: "grid-group" },
        el("div", {}, el("div", { class: "label" }, `input ch ${d.input_channels[0]} window`), numTable(w, lo, hi, "seq", d.winner)))),
      el("div", { class: "sum" },
        el("div", { id: "sum-text" }, `${op}(${values}) = `, el("span", { class: "result", id: "neuron-value" }, fmt(d.value))),
        d.winner ? el("div", {}, `the winner is window cell (${d.winner[0]}, ${d.winner[1]}), `
          + `input pixel (${d.origin[0] + d.winner[0]}, ${d.origin[1] + d.winner[1]}); only it passes a gradient back`) : ""));
      const ok = Math.abs(d.value - d.output) <= 1e-5 * Math.max(1, Math.abs(d.output));
      parts.push(el("div", { class: ok ? "check-ok" : "check-bad" },
        `${ok ? "✓" : "✗"} the layer itself computed ${fmt(d.output)} at (${d.row}, ${d.col}, channel ${d.channel})`));
    }
    box.replaceChildren(el("div", { class: "work" }, ...parts));
  }

  // ---------------------------------------------------------------- Why
  // The input drawn crisp at display size, and the map smoothed over it; a cell's opacity grows
  // with its heat, so where the map is cold the digit shows through unchanged.
  const CAM_SIZE = 280;
  function cam(inputCanvas, overlayCanvas, seen, heat, alpha) {
    for (const c of [inputCanvas, overlayCanvas]) {
      c.width = c.height = CAM_SIZE;
      const ctx = c.getContext("2d");
      ctx.imageSmoothingEnabled = false;  // the model's pixels, not a blur of them
      ctx.drawImage(seen, 0, 0, CAM_SIZE, CAM_SIZE);
    }
    const h = heat.length, w = heat[0].length;
    const layer = document.createElement("canvas");
    layer.width = w; layer.height = h;
    const lctx = layer.getContext("2d"), img = lctx.createImageData(w, h);
    heat.flat().forEach((v, i) => {
      const rgb = Colors.ramp(Colors.HEAT, v);
      img.data.set([rgb[0], rgb[1], rgb[2], Math.round(255 * alpha * Math.min(1, 0.15 + v))], 4 * i);
    });
    lctx.putImageData(img, 0, 0);
    const ctx = overlayCanvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(layer, 0, 0, CAM_SIZE, CAM_SIZE);
  }

  // A horizontal colour bar for the CAM's scale (0 = no evidence, 1 = the most).
  function heatLegend(canvas) {
    canvas.width = 200; canvas.height = 12;
    const ctx = canvas.getContext("2d");
    for (let x = 0; x < canvas.width; x++) {
      ctx.fillStyle = Colors.css(Colors.ramp(Colors.HEAT, x / (canvas.width - 1)));
      ctx.fillRect(x, 0, 1, canvas.height);
    }
  }

  // ---------------------------------------------------------------- Model
  function lineChart(title, series, xs) {
    const W = 380, H = 230, L = 48, R = 12, T = 26, B = 34;
    const all = series.flatMap((s) => s.values).filter(Number.isFinite);
    let lo = Math.min(...all), hi = Math.max(...all);
    if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    const x = (i) => L + (xs.length > 1 ? (i / (xs.length - 1)) * (W - L - R) : (W - L - R) / 2);
    const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", W); svg.setAttribute("height", H);
    const add = (tag, attrs, text) => {
      const n = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      svg.append(n);
    };
    add("text", { x: L, y: 16, "font-size": 13, "font-weight": 600, fill: "#1d2330" }, title);
    for (let k = 0; k <= 4; k++) {
      const v = lo + (k / 4) * (hi - lo);
      add("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e3e6ee" });
      add("text", { x: L - 6, y: y(v) + 4, "font-size": 10, "text-anchor": "end", fill: "#6b7280" }, fmt(v, 3));
    }
    xs.forEach((e, i) => add("text", { x: x(i), y: H - B + 14, "font-size": 10, "text-anchor": "middle", fill: "#6b7280" }, e));
    add("text", { x: (L + W - R) / 2, y: H - 6, "font-size": 11, "text-anchor": "middle", fill: "#6b7280" }, "epoch");
    const colours = ["#4f46e5", "#f97316"];
    series.forEach((s, k) => {
      const pts = s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
      add("polyline", { points: pts, fill: "none", stroke: colours[k], "stroke-width": 2 });
      s.values.forEach((v, i) => add("circle", { cx: x(i), cy: y(v), r: 3, fill: colours[k] }));
      // The legend sits in the title row, so it never covers a curve.
      const lx = W - R - 170 + 86 * k;
      add("rect", { x: lx, y: 7, width: 10, height: 10, fill: colours[k] });
      add("text", { x: lx + 14, y: 16, "font-size": 11, fill: "#1d2330" }, s.name);
    });
    return svg;
  }

  function model(info, refs) {
    refs.title.textContent = `Model: ${info.name}`;
    const facts = [["parameters", info.params.toLocaleString()], ["input", shape(info.input_shape)],
      ["classes", info.classes.length], ["file", info.file]];
    if (info.test_accuracy != null) facts.push(["test accuracy", `${(100 * info.test_accuracy).toFixed(2)}%`]);
    refs.facts.replaceChildren(...facts.map(([k, v]) => el("div", { class: "fact" }, el("b", {}, String(v)), k)));
    const h = info.history, charts = [];
    if (h && h.epoch) {
      for (const [name, keys] of [["loss", ["loss", "val_loss"]], ["accuracy", ["accuracy", "val_accuracy"]]]) {
        const series = keys.filter((k) => h[k]).map((k) => ({ name: k.startsWith("val_") ? "validation" : "training", values: h[k] }));
        if (series.length) charts.push(lineChart(name, series, h.epoch));
      }
    }
    refs.charts.replaceChildren(...(charts.length ? charts : [el("p", { class: "muted" }, "No history.csv beside this model (serve a run folder from `cnnkit train` to see its curves).")]));
    const cols = [["name", "Layer"], ["type", "Type"], ["output_shape", "Output shape"], ["params", "Param #"],
      ["param_formula", "Param formula"], ["output_size_formula", "Output size"], ["macs", "MACs"]];
    const head = el("tr", {}, ...cols.map(([, t]) => el("th", {}, t)));
    const rows = info.summary.rows.map((r) => el("tr", { class: r.depth ? "inner" : "" }, ...cols.map(([k]) => {
      const v = r[k];
      if (k === "output_shape") return el("td", { class: "f" }, Array.isArray(v) && Array.isArray(v[0]) ? v.map(shape).join(", ") : shape(v));
      if (k === "params" || k === "macs") return el("td", { class: "num" }, v ? v.toLocaleString() : "0");
      return el("td", { class: k.endsWith("formula") ? "f" : "" }, v == null ? "" : String(v));
    })));
    refs.summary.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
    refs.totals.replaceChildren(...info.summary.totals.map((t) => el("li", {}, t)));
  }

  return { prediction, overview, neuronMaps, neuronDetail, cam, heatLegend, model };
})();
