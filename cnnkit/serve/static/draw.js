// The input panel: a pointer-drawn canvas (white ink on black, as MNIST) or an uploaded photo,
// turned into the image the model sees, at its input size, as a PNG blob.
"use strict";

const Drawing = (() => {
  let canvas, ctx, onChange, drawing = false, last = null, dirty = false;

  function clear() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    dirty = false;
  }

  function stroke(p) {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 20;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    last = p;
    dirty = true;
  }

  function point(e) {
    const box = canvas.getBoundingClientRect();
    return [(e.clientX - box.left) * (canvas.width / box.width),
      (e.clientY - box.top) * (canvas.height / box.height)];
  }

  function init(el, changed) {
    canvas = el; ctx = canvas.getContext("2d"); onChange = changed;
    clear();
    canvas.addEventListener("pointerdown", (e) => {
      drawing = true; last = point(e);
      canvas.setPointerCapture(e.pointerId);
      stroke([last[0] + 0.01, last[1]]);
    });
    canvas.addEventListener("pointermove", (e) => { if (drawing) stroke(point(e)); });
    const end = () => { if (drawing) { drawing = false; onChange(); } };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  // Bounding box and brightness-weighted centre of the ink.
  function inkBox() {
    const { width: w, height: h } = canvas;
    const data = ctx.getImageData(0, 0, w, h).data;
    let x0 = w, y0 = h, x1 = -1, y1 = -1, sum = 0, sx = 0, sy = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = data[4 * (y * w + x)];
        if (v > 10) {
          x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
          sum += v; sx += v * x; sy += v * y;
        }
      }
    }
    return x1 < 0 ? null : { x0, y0, x1, y1, cx: sx / sum, cy: sy / sum };
  }

  // The model-size image. One-channel models get MNIST's framing: the ink scaled so its
  // longer side fills 20 of 28 pixels, its centre of mass at the centre; others the whole canvas.
  function modelImage(height, width, channels) {
    const out = document.createElement("canvas");
    out.width = width; out.height = height;
    const o = out.getContext("2d");
    o.fillStyle = "#000";
    o.fillRect(0, 0, width, height);
    o.imageSmoothingEnabled = true;
    o.imageSmoothingQuality = "high";
    const box = channels === 1 ? inkBox() : null;
    if (box && dirty) {
      const side = Math.max(box.x1 - box.x0 + 1, box.y1 - box.y0 + 1);
      const scale = (20 / 28) * Math.min(width, height) / side;
      const dx = width / 2 - (box.cx - box.x0) * scale, dy = height / 2 - (box.cy - box.y0) * scale;
      o.drawImage(canvas, box.x0, box.y0, box.x1 - box.x0 + 1, box.y1 - box.y0 + 1,
        dx, dy, (box.x1 - box.x0 + 1) * scale, (box.y1 - box.y0 + 1) * scale);
    } else {
      o.drawImage(canvas, 0, 0, width, height);
    }
    return out;
  }

  // Put a photo on the canvas (fitted, centred), optionally inverted, then report a change.
  function loadPhoto(file, invert) {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => {
      clear();
      const s = Math.min(canvas.width / img.width, canvas.height / img.height);
      const w = img.width * s, h = img.height * s;
      ctx.filter = invert ? "invert(1) grayscale(1)" : "none";
      ctx.drawImage(img, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
      ctx.filter = "none";
      URL.revokeObjectURL(url);
      dirty = false;  // a photo is shown whole, not re-framed like a drawing
      onChange();
    };
    img.onerror = () => { URL.revokeObjectURL(url); onChange(new Error("that file is not an image the browser can read")); };
    img.src = url;
  }

  const isEmpty = () => !inkBox();

  return { init, clear, modelImage, loadPhoto, isEmpty };
})();
