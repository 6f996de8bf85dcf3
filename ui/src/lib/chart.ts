// The spend view's bar chart, drawn by Chart.js (docs/decisions.md: why this library). Only
// the parts a stacked bar chart needs are registered, so the rest is left out of the build;
// the spend view loads this module when it first draws, so the app's first screen never
// carries it.

import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { formatCredits } from './logic/format';
import type { SpendChart } from './logic/spend';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

/** One colour per model, in the report's order (most spent first); told apart in either theme. */
export const PALETTE = ['#4a5bd4', '#0e9aa7', '#d97706', '#c026d3', '#16a34a', '#dc2626', '#7c3aed', '#0284c7'];

export interface SpendChartHandle {
  update(data: SpendChart): void;
  destroy(): void;
}

/** Room one day's label takes on the axis ("Nov 30" and a gap), in pixels. */
const LABEL_PX = 64;

/**
 * Whether the day at `index` of `count` gets its label on an axis `width` pixels wide: every
 * k-th day counted back from the last, so today (where new spend lands) is always named.
 * (Chart.js's own skipping counts from the first day and may leave today's bar unnamed.)
 */
export function dayLabelShown(index: number, count: number, width: number): boolean {
  const fit = Math.max(1, Math.floor(width / LABEL_PX));
  const step = Math.max(1, Math.ceil(count / fit));
  return (count - 1 - index) % step === 0;
}

function colour(i: number): string {
  return PALETTE[i % PALETTE.length];
}

function datasets(data: SpendChart) {
  return data.series.map((s) => ({
    label: s.label,
    data: s.data,
    stack: 'spend',
    // Estimates: the model's colour, pale, outlined; Kie's own figures: solid.
    backgroundColor: s.estimated ? `${colour(s.colour)}40` : colour(s.colour),
    borderColor: colour(s.colour),
    borderWidth: s.estimated ? 1.5 : 0,
  }));
}

/** The theme's colour for text and lines (the chart draws on a canvas, outside CSS). */
function themed(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function drawSpendChart(canvas: HTMLCanvasElement, data: SpendChart): SpendChartHandle {
  const text = themed('--muted', '#5b6475');
  const grid = themed('--border', '#dfe3e9');
  const chart = new Chart(canvas, {
    type: 'bar',
    data: { labels: data.labels, datasets: datasets(data) },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: {
          stacked: true,
          ticks: {
            color: text,
            maxRotation: 0,
            autoSkip: false,
            callback(value, index) {
              const count = this.chart.data.labels?.length ?? 0;
              return dayLabelShown(index, count, this.width) ? this.getLabelForValue(Number(value)) : null;
            },
          },
          grid: { display: false },
        },
        y: {
          stacked: true,
          beginAtZero: true,
          ticks: { color: text, callback: (v) => formatCredits(Number(v)) },
          grid: { color: grid },
          title: { display: true, text: 'credits', color: text },
        },
      },
      plugins: {
        legend: { position: 'bottom', labels: { color: text, boxWidth: 12 } },
        tooltip: {
          callbacks: { label: (item) => `${item.dataset.label}: ${formatCredits(Number(item.raw))} credits` },
          filter: (item) => Number(item.raw) > 0,
        },
      },
    },
  });
  return {
    update(next: SpendChart) {
      chart.data.labels = next.labels;
      chart.data.datasets = datasets(next);
      chart.update();
    },
    destroy() {
      chart.destroy();
    },
  };
}
