// Colour maps and small-matrix drawing shared by every page.
"use strict";

const Colors = (() => {
  // Viridis at 9 stops, interpolated linearly: dark purple (low) to yellow (high).
  const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];
  // Jet-like for CAM overlays: blue (0) to red (1).
  const HEAT = [[0, 0, 143], [0, 0, 255], [0, 127, 255], [0, 255, 255], [127, 255, 127],
    [255, 255, 0], [255, 127, 0], [255, 0, 0], [127, 0, 0]];

  function ramp(stops, t) {
    const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
    const i = Math.min(Math.floor(x), stops.length - 2);
    const f = x - i;
    return stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  }

  // Diverging: blue for negative, white at zero, red for positive; |v| / scale in [0, 1].
  function diverging(v, scale) {
    const t = scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0;
    const a = Math.abs(t);
    return t >= 0 ? [255, Math.round(255 - 155 * a), Math.round(255 - 175 * a)]
      : [Math.round(255 - 175 * a), Math.round(255 - 130 * a), 255];
  }

  const css = (rgb) => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;

  // Draw matrix m (rows of numbers) into canvas at its natural size; CSS scales it up.
  function drawMatrix(canvas, m, lo, hi, map = "viridis") {
    const h = m.length, w = m[0].length;
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(w, h);
    const span = hi - lo || 1;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const v = (m[r][c] - lo) / span;
        const rgb = map === "gray" ? [v * 255, v * 255, v * 255] : ramp(VIRIDIS, v);
        const o = 4 * (r * w + c);
        img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2]; img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }

  // The (row, col) of a matrix cell under a click on a canvas showing it.
  function cellAt(canvas, event) {
    const box = canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * canvas.width);
    const row = Math.floor(((event.clientY - box.top) / box.height) * canvas.height);
    return [Math.min(Math.max(row, 0), canvas.height - 1), Math.min(Math.max(col, 0), canvas.width - 1)];
  }

  return { VIRIDIS, HEAT, ramp, diverging, css, drawMatrix, cellAt };
})();
