// The spend view's data: the core's report (`get_spend`) as a stacked bar chart's days and
// series, and as words for the chart's text alternative. The figures themselves (what counts,
// estimates, days) are the core's; nothing here adds them up differently.

import type { SpendReport } from '../bindings/SpendReport';
import type { Task } from '../bindings/Task';
import { formatCredits, formatUsd } from './format';

/** How many days the view shows. */
export const SPEND_DAYS = 30;

/** One series of the chart: one model's actual or estimated credits, one value per day. */
export interface SpendSeries {
  model: string;
  estimated: boolean;
  label: string;
  /** Index into the palette: the model's place in the report. */
  colour: number;
  data: number[];
}

export interface SpendChart {
  /** One label per day, oldest first ("Mar 4"). */
  labels: string[];
  series: SpendSeries[];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2026-03-04" → "Mar 4": read as written (a local date), never through `Date`'s zone. */
export function dayLabel(date: string): string {
  const [, m, d] = date.split('-').map(Number);
  return m >= 1 && m <= 12 && d ? `${MONTHS[m - 1]} ${d}` : date;
}

/** The offset from UTC the core counts local days in: east positive, as `get_spend` takes it. */
export function utcOffsetMinutes(at: Date = new Date()): number {
  return -at.getTimezoneOffset();
}

/**
 * Every day of the report on the axis; per model (most spent first) a series of Kie's own
 * figures and, when there are any, one of estimates, stacked on it. A series with nothing
 * in it is left out.
 */
export function spendChart(report: SpendReport): SpendChart {
  const labels = report.days.map((d) => dayLabel(d.date));
  const series: SpendSeries[] = [];
  report.models.forEach((m, colour) => {
    for (const estimated of [false, true]) {
      const data = report.days.map((d) => {
        const s = d.models.find((x) => x.model === m.model)?.spend;
        return s ? (estimated ? s.estimated_credits : s.actual_credits) : 0;
      });
      if (data.some((v) => v > 0)) {
        series.push({ model: m.model, estimated, label: estimated ? `${m.model} (estimated)` : m.model, colour, data });
      }
    }
  });
  return { labels, series };
}

/** The chart in one sentence, for its `aria-label`. */
export function spendSummary(report: SpendReport): string {
  const t = report.total;
  const days = report.days.length;
  if (t.tasks === 0) return `Credits spent per day over the last ${days} days: nothing spent.`;
  const est = t.estimated_tasks > 0 ? `, of which ${formatCredits(t.estimated_credits)} estimated` : '';
  return (
    `Credits spent per day over the last ${days} days, by model: ${formatCredits(t.credits)} credits ` +
    `(${formatUsd(t.usd)}) in total${est}. The table below has the figures.`
  );
}

/**
 * What in the queue changes the spend: a task's state and what Kie charged. The view asks
 * the core again when this changes.
 */
export function spendSignature(tasks: readonly Task[]): string {
  return tasks.map((t) => `${t.id}:${t.status}:${t.credits_consumed ?? ''}`).join(',');
}
