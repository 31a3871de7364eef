import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { CELL_LABELS, type CellType } from '../engine/index.js';

export const CELL_COLORS: Record<CellType, string> = {
  rnn: '#e45756',
  lstm: '#4c78a8',
  gru: '#54a24b',
  myrnn: '#b279a2',
};

/** Keeps a uPlot chart as wide as its container. */
function autoSize(plot: uPlot, el: HTMLElement, height: number): void {
  const fit = () => plot.setSize({ width: Math.max(200, el.clientWidth), height });
  new ResizeObserver(fit).observe(el);
  fit();
}

const logAxis = (label: string): uPlot.Axis => ({
  label,
  size: 70,
  values: (_u, splits) => splits.map((v) => (v == null ? '' : v.toExponential(0))),
});

export interface LossChart {
  /** losses[cell]: raw loss per step (1-based step = index + 1). */
  update(losses: Partial<Record<CellType, number[]>>): void;
}

/** Exponential moving average, the usual smoothing of a training curve. */
function smooth(xs: number[], alpha = 0.1): number[] {
  const out: number[] = [];
  let m = xs[0] ?? 0;
  for (const x of xs) {
    m = alpha * x + (1 - alpha) * m;
    out.push(m);
  }
  return out;
}

/** Loss per step for each cell (log scale), smoothed, with the "always answer 1" baseline. */
export function lossChart(el: HTMLElement, cells: CellType[], baseline: number): LossChart {
  el.classList.add('loss-chart');
  const series: uPlot.Series[] = [{ label: 'step' }];
  for (const c of cells) {
    series.push({
      label: `${CELL_LABELS[c]} (raw)`,
      stroke: `${CELL_COLORS[c]}44`,
      width: 1,
      show: true,
      points: { show: false },
    });
    series.push({
      label: CELL_LABELS[c],
      stroke: CELL_COLORS[c],
      width: 2,
      points: { show: false },
    });
  }
  series.push({ label: 'baseline (answer 1)', stroke: '#888', dash: [6, 4], width: 1.5 });
  const plot = new uPlot(
    {
      width: 600,
      height: 300,
      title: 'MSE loss on the adding problem (log scale, smoothed; faint: per step)',
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [{ label: 'training step' }, logAxis('loss')],
      series,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    },
    [[], ...series.slice(1).map(() => [])],
    el,
  );
  autoSize(plot, el, 300);
  return {
    update(losses) {
      const n = Math.max(1, ...cells.map((c) => losses[c]?.length ?? 0));
      const x = Array.from({ length: n }, (_, i) => i + 1);
      const data: uPlot.AlignedData = [x];
      const pad = (ys: number[]) => x.map((_, i) => (i < ys.length ? ys[i] : null));
      for (const c of cells) {
        const raw = losses[c] ?? [];
        data.push(pad(raw), pad(smooth(raw)));
      }
      data.push(x.map(() => baseline));
      plot.setData(data);
    },
  };
}

export interface GradSeries {
  cell: CellType;
  norms: number[];
  /** Same pass after clip_grad_norm_ (drawn dashed), when clipping is on. */
  clipped?: number[];
}

export interface GradChart {
  update(series: GradSeries[]): void;
}

/** |dL/dx_t| against t for each cell, log scale. */
export function gradChart(el: HTMLElement): GradChart {
  let plot: uPlot | null = null;
  return {
    update(list) {
      plot?.destroy();
      el.textContent = '';
      const T = Math.max(...list.map((s) => s.norms.length));
      const x = Array.from({ length: T }, (_, t) => t);
      const series: uPlot.Series[] = [{ label: 't' }];
      const data: uPlot.AlignedData = [x];
      for (const s of list) {
        series.push({ label: CELL_LABELS[s.cell], stroke: CELL_COLORS[s.cell], width: 2 });
        data.push(s.norms);
        if (s.clipped) {
          series.push({
            label: `${CELL_LABELS[s.cell]} clipped`,
            stroke: CELL_COLORS[s.cell],
            dash: [5, 4],
            width: 1.5,
          });
          data.push(s.clipped);
        }
      }
      plot = new uPlot(
        {
          width: 600,
          height: 300,
          title: '|dL/dx_t|: how much of the last step\u2019s loss gradient reaches input step t',
          scales: { x: { time: false }, y: { distr: 3 } },
          axes: [
            {
              label: 'time step t (loss at the last step)',
              incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500],
            },
            logAxis('|dL/dx_t|'),
          ],
          series,
        },
        data,
        el,
      );
      autoSize(plot, el, 300);
    },
  };
}
