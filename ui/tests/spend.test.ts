// The spend view (issue 13): the core's report as a chart's days and series (pure), and the
// screen against the real core (the browser server's demo): the total, the per-model table
// (the chart's text alternative), estimates marked while a task runs and Kie's own figure
// once it is done.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from '../src/App.svelte';
import type { DaySpend } from '../src/lib/bindings/DaySpend';
import type { SpendAmount } from '../src/lib/bindings/SpendAmount';
import type { SpendReport } from '../src/lib/bindings/SpendReport';
import { formatCredits, formatUsd } from '../src/lib/logic/format';
import { dayLabel, spendChart, spendSignature, spendSummary, utcOffsetMinutes } from '../src/lib/logic/spend';
import { serverPerTest } from './server';
import { taskRow } from './taskRow';

function amount(actual: number, estimated = 0, estimatedTasks = 0): SpendAmount {
  const credits = actual + estimated;
  return {
    credits,
    actual_credits: actual,
    estimated_credits: estimated,
    usd: credits * 0.005,
    tasks: (actual > 0 ? 1 : 0) + estimatedTasks,
    estimated_tasks: estimatedTasks,
    pending_tasks: 0,
    unpriced_tasks: 0,
  };
}

function day(date: string, models: Array<[string, SpendAmount]>): DaySpend {
  const spend = models.reduce((a, [, s]) => amount(a.actual_credits + s.actual_credits, a.estimated_credits + s.estimated_credits, a.estimated_tasks + s.estimated_tasks), amount(0));
  return { date, start_ms: 0, spend, models: models.map(([model, spend]) => ({ model, spend })) };
}

const REPORT: SpendReport = {
  days: [
    day('2026-02-27', [['sora-2-text-to-video', amount(30)]]),
    day('2026-02-28', []),
    day('2026-03-01', [
      ['kling-3.0/video', amount(90, 70, 1)],
      ['sora-2-text-to-video', amount(18.5)],
    ]),
  ],
  models: [
    { model: 'kling-3.0/video', spend: amount(90, 70, 1) },
    { model: 'sora-2-text-to-video', spend: amount(48.5) },
  ],
  total: amount(138.5, 70, 1),
  from_ms: 0,
  to_ms: 0,
  utc_offset_minutes: 60,
};

describe('the spend chart’s data', () => {
  it('has every day on the axis and, per model, its figures and its estimates stacked', () => {
    const c = spendChart(REPORT);
    expect(c.labels).toEqual(['Feb 27', 'Feb 28', 'Mar 1']);
    expect(c.series.map((s) => [s.label, s.colour, s.estimated, s.data])).toEqual([
      ['kling-3.0/video', 0, false, [0, 0, 90]],
      ['kling-3.0/video (estimated)', 0, true, [0, 0, 70]],
      ['sora-2-text-to-video', 1, false, [30, 0, 18.5]],
    ]);
    // Nothing spent: the axis stays, no series.
    const empty = { ...REPORT, models: [], days: REPORT.days.map((d) => ({ ...d, models: [], spend: amount(0) })), total: amount(0) };
    expect(spendChart(empty)).toEqual({ labels: ['Feb 27', 'Feb 28', 'Mar 1'], series: [] });
    expect(spendSummary(empty)).toBe('Credits spent per day over the last 3 days: nothing spent.');
  });

  it('reads dates as written, and says the chart in words', () => {
    expect(dayLabel('2026-12-31')).toBe('Dec 31');
    expect(dayLabel('2026-01-01')).toBe('Jan 1');
    expect(dayLabel('not a date')).toBe('not a date');
    expect(spendSummary(REPORT)).toBe(
      'Credits spent per day over the last 3 days, by model: 208.5 credits ($1.04) in total, of which 70 estimated. The table below has the figures.',
    );
    expect(utcOffsetMinutes(new Date())).toBe(-new Date().getTimezoneOffset());
  });

  it('changes when a task changes state or is charged, not otherwise', () => {
    const a = [taskRow({ id: 1, status: 'running' })];
    const b = [taskRow({ id: 1, status: 'running', progress: 50 })];
    const c = [taskRow({ id: 1, status: 'succeeded', credits_consumed: 30 })];
    expect(spendSignature(a)).toBe(spendSignature(b));
    expect(spendSignature(a)).not.toBe(spendSignature(c));
  });
});

describe('the spend view against the real core', () => {
  const core = serverPerTest();

  beforeEach(() => {
    // jsdom has no 2D canvas: say so quietly instead of its "not implemented" noise.
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
  });

  it('shows the total, the models and the days: estimates while running, Kie’s figure once done', async () => {
    const api = core.api;
    await api.startDemo();
    const input = { prompt: 'a fox in the snow', n_frames: '10', aspect_ratio: 'landscape' };
    const first = await api.submitTask({ model: 'sora-2-text-to-video', input });
    const user = userEvent.setup();
    render(App, { props: { api } });
    await user.click(await screen.findByTestId('nav-spend'));
    const view = await screen.findByTestId('spend');
    expect(screen.getByTestId('nav-spend')).toHaveAttribute('aria-current', 'page');
    expect(within(view).getByTestId('spend-chart').tagName).toBe('CANVAS');
    expect(within(view).getByTestId('spend-chart-figure')).toHaveAttribute('role', 'img');

    // Running: counted by its estimate, marked.
    const estimate = first.credits_estimated ?? 0;
    expect(estimate).toBeGreaterThan(0);
    await waitFor(() => expect(screen.getByTestId('spend-total')).toHaveTextContent(`${formatCredits(estimate)}* credits`));
    expect(screen.getByTestId('spend-estimates')).toHaveTextContent('1 not finished yet');
    expect(screen.getByTestId('spend-chart-figure').getAttribute('aria-label')).toContain('estimated');

    // Done: Kie's own figure, and the view asks again by itself.
    await waitFor(async () => expect((await api.getTask({ id: first.id })).status).toBe('succeeded'), { timeout: 15000 });
    const done = await api.getTask({ id: first.id });
    expect(done.credits_consumed).not.toBeNull();
    const report = await api.getSpend({ days: 30, utcOffsetMinutes: utcOffsetMinutes() });
    // The totals are the sum of `creditsConsumed`.
    expect(report.total.actual_credits).toBe(done.credits_consumed);
    expect(report.total.estimated_tasks).toBe(0);
    expect(report.days).toHaveLength(30);
    await waitFor(() => expect(screen.getByTestId('spend-total')).toHaveTextContent(`${formatCredits(report.total.credits)} credits`), { timeout: 5000 });
    expect(screen.getByTestId('spend-total')).toHaveTextContent(formatUsd(report.total.usd));
    expect(screen.queryByTestId('spend-estimates')).toBeNull();

    // The tables: one row per model, one per day with spend.
    const rows = screen.getAllByTestId('spend-model-row');
    expect(rows.map((r) => r.dataset.model)).toEqual(['sora-2-text-to-video']);
    expect(rows[0]).toHaveTextContent(formatCredits(done.credits_consumed!));
    const days = screen.getAllByTestId('spend-day-row');
    expect(days).toHaveLength(1);
    expect(days[0].dataset.date).toBe(report.days[29].date);
    // The demo's video takes 8 s.
  }, 40000);

  it('says when nothing was spent', async () => {
    const api = core.api;
    await api.startDemo();
    render(App, { props: { api, initial: { screen: 'spend' } } });
    await waitFor(() => expect(screen.getByTestId('spend-total')).toHaveTextContent('0 credits'));
    expect(screen.getByTestId('spend')).toHaveTextContent('Nothing spent in the last 30 days.');
    expect(screen.getByTestId('spend-chart-figure').getAttribute('aria-label')).toBe(
      'Credits spent per day over the last 30 days: nothing spent.',
    );
  });
});
