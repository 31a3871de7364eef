/** Diverging colour for v in [-1, 1]: blue (negative) - white (0) - red (positive). */
export function divergingColor(v: number): [number, number, number] {
  const x = Math.max(-1, Math.min(1, v));
  const a = Math.abs(x);
  // From white towards #b2182b (positive) or #2166ac (negative).
  const [r, g, b] = x >= 0 ? [178, 24, 43] : [33, 102, 172];
  return [
    Math.round(255 + (r - 255) * a),
    Math.round(255 + (g - 255) * a),
    Math.round(255 + (b - 255) * a),
  ];
}

export interface HeatmapInfo {
  /** Largest |value|: the colour scale runs from -scale to +scale. */
  scale: number;
  steps: number;
  units: number;
}

/**
 * Draws states [T][H] on the canvas: time runs left to right (one column per step), hidden units
 * top to bottom. Colours are scaled by the largest |value|.
 */
export function drawHeatmap(canvas: HTMLCanvasElement, states: number[][]): HeatmapInfo {
  const T = states.length;
  const H = states[0]?.length ?? 0;
  let scale = 0;
  for (const row of states) for (const v of row) scale = Math.max(scale, Math.abs(v));
  if (scale === 0) scale = 1;
  // Draw one pixel per (t, unit) into an offscreen image, then scale it up without smoothing.
  const img = new ImageData(Math.max(T, 1), Math.max(H, 1));
  for (let t = 0; t < T; t++) {
    for (let u = 0; u < H; u++) {
      const [r, g, b] = divergingColor(states[t][u] / scale);
      const i = (u * T + t) * 4;
      img.data[i] = r;
      img.data[i + 1] = g;
      img.data[i + 2] = b;
      img.data[i + 3] = 255;
    }
  }
  const small = document.createElement('canvas');
  small.width = img.width;
  small.height = img.height;
  small.getContext('2d')!.putImageData(img, 0, 0);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  // Thin separators between time steps when they are wide enough to tell apart.
  const colW = canvas.width / Math.max(T, 1);
  if (colW >= 8) {
    ctx.strokeStyle = 'rgba(255,255,255,0.8)';
    ctx.lineWidth = 1;
    for (let t = 1; t < T; t++) {
      const x = Math.round(t * colW) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, 0);
      ctx.lineTo(x, canvas.height);
      ctx.stroke();
    }
  }
  return { scale, steps: T, units: H };
}

/** A horizontal colour bar from -scale to +scale. */
export function drawLegend(canvas: HTMLCanvasElement): void {
  const ctx = canvas.getContext('2d')!;
  for (let x = 0; x < canvas.width; x++) {
    const [r, g, b] = divergingColor((x / (canvas.width - 1)) * 2 - 1);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x, 0, 1, canvas.height);
  }
}
