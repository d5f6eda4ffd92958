'use strict';
// Image filters, run on the pool as module tasks: real code in a file, with
// its own requires, loaded once per executor. Pixels arrive as an
// ArrayBuffer moved (transferred) from the main thread, not copied.

const { createHash } = require('node:crypto');

// RGBA -> one gray byte per pixel (ITU-R BT.601 weights, integer maths).
function grayscale(rgba, width, height) {
  const gray = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < gray.length; i++, p += 4) {
    gray[i] = (rgba[p] * 299 + rgba[p + 1] * 587 + rgba[p + 2] * 114 + 500) / 1000;
  }
  return gray;
}

// A 3x3 box blur; edge pixels average the neighbours that exist.
function blur(gray, width, height) {
  const out = new Uint8Array(gray.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          sum += gray[yy * width + xx];
          n++;
        }
      }
      out[y * width + x] = Math.round(sum / n);
    }
  }
  return out;
}

// Every `factor` x `factor` block becomes its mean.
function downscale(gray, width, height, factor) {
  const w = Math.floor(width / factor);
  const h = Math.floor(height / factor);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        for (let dx = 0; dx < factor; dx++) sum += gray[(y * factor + dy) * width + x * factor + dx];
      }
      out[y * w + x] = Math.round(sum / (factor * factor));
    }
  }
  return { pixels: out, width: w, height: h };
}

// The whole pipeline for one image, reporting progress after each stage:
// a binary PGM thumbnail and its SHA-256.
function thumbnail(buffer, width, height, factor) {
  if (buffer.byteLength !== width * height * 4) {
    throw new RangeError(`expected ${width * height * 4} bytes of RGBA, got ${buffer.byteLength}`);
  }
  const rgba = new Uint8Array(buffer);
  const gray = grayscale(rgba, width, height);
  tasklet.progress(33, 'grayscale');
  const smooth = blur(gray, width, height);
  tasklet.progress(66, 'blur');
  const small = downscale(smooth, width, height, factor);
  const header = Buffer.from(`P5\n${small.width} ${small.height}\n255\n`, 'ascii');
  const pgm = Buffer.concat([header, small.pixels]);
  tasklet.progress(100, 'encoded');
  return { pgm, width: small.width, height: small.height, sha256: createHash('sha256').update(pgm).digest('hex') };
}

module.exports = { thumbnail, grayscale, blur, downscale };
