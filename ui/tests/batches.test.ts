// Batches and variations in the window, against the real core (the browser server's demo,
// which simulates Kie with 1 s between creates and 8 s per video): a pasted list reviewed
// (every item priced, the total), started, followed in the queue until all sent, and shown in
// the gallery by itself; a bad line named with nothing sent; variations priced as a total and
// sent as that many tasks; pause, resume and cancel the rest from the queue; a file opened
// read as its name says (the core decides).
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from '../src/App.svelte';
import type { Batch } from '../src/lib/bindings/Batch';
import type { BatchPlan } from '../src/lib/bindings/BatchPlan';
import { batchFigures } from '../src/lib/components/BatchRow.svelte';
import { reviewTotal } from '../src/lib/components/form/BatchPanel.svelte';
import { initialForm, toInput } from '../src/lib/logic/form';
import { countLabel } from '../src/lib/logic/gallery';
import { creditsLabel, formatCredits } from '../src/lib/logic/format';
import { serverPerTest } from './server';

type User = ReturnType<typeof userEvent.setup>;

const MODEL = 'sora-2-text-to-video';

const core = serverPerTest({ demo: true });

afterEach(async () => {
  // A batch left sending would go on into the next test's library: stop it.
  for (const b of await core.api.listBatches({ limit: 20 }).catch(() => [] as Batch[])) {
    if (b.actions.includes('cancel')) await core.api.cancelBatch({ id: b.id }).catch(() => undefined);
  }
});

/** The window on Create with Sora's form, the batch panel open. */
async function openPanel(): Promise<User> {
  const user = userEvent.setup();
  render(App, { props: { api: core.api, initial: { screen: 'create', model: MODEL } } });
  await screen.findByTestId('model-form');
  await user.click(screen.getByTestId('batch-open'));
  expect(screen.getByTestId('batch-open')).toHaveAttribute('aria-expanded', 'true');
  await screen.findByTestId('batch-panel');
  return user;
}

/** What the core says one item of the form costs, with this prompt. */
async function singlePrice(prompt: string): Promise<number> {
  const spec = (await core.api.getCatalogue()).find((m) => m.id === MODEL)!;
  const check = await core.api.checkInput({ model: MODEL, input: { ...toInput(spec, initialForm(spec)), prompt } });
  expect(check.credits).not.toBeNull();
  expect(check.credits!).toBeGreaterThan(0);
  return check.credits!;
}

async function paste(user: User, text: string) {
  const box = screen.getByTestId('batch-text');
  await user.click(box);
  await user.paste(text);
  expect(box).toHaveValue(text);
}

/** The task rows in the queue. */
function taskRows(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid^="task-"][data-status]')];
}

async function onlyBatch(): Promise<Batch> {
  const list = await core.api.listBatches({ limit: 20 });
  expect(list).toHaveLength(1);
  return list[0];
}

describe('the words for a batch', () => {
  const plan = (items: number, estimate: number | null, unpriced: number): BatchPlan => ({
    model: MODEL,
    format: 'lines',
    items: Array.from({ length: items }, (_, i) => ({ line: i + 1, input: {}, credits_estimated: null })),
    problems: [],
    estimate_credits: estimate,
    unpriced,
  });

  it('says the review’s total with a space before every part', () => {
    expect(reviewTotal(plan(4, 120, 0))).toBe('4 items, about 120 credits in all');
    expect(reviewTotal(plan(1, 30, 0))).toBe('1 item, about 30 credits in all');
    expect(reviewTotal(plan(3, 60, 1))).toBe('3 items, about 60 credits in all (1 without a price)');
    expect(reviewTotal(plan(2, null, 2))).toBe('2 items (2 without a price)');
  });

  it('says a batch’s progress against its cap', () => {
    const b = { sent: 3, items: 4, committed_credits: 90, cap_credits: 1200 } as Batch;
    expect(batchFigures(b)).toBe('3 of 4 sent · 90 credits of a 1,200-credit cap');
    expect(batchFigures({ ...b, cap_credits: null })).toBe('3 of 4 sent · 90 credits');
  });
});

describe('a pasted list', () => {
  it('is reviewed as a table with its total, started, followed in the queue until all sent, and shown in the gallery', async () => {
    const user = await openPanel();
    const prompts = ['a red fox in fresh snow', 'an owl at dusk', 'a paper boat in the rain', 'waves on a quiet beach'];
    await paste(user, prompts.join('\n'));
    await user.click(screen.getByTestId('batch-review'));

    // The review: one row per line, each priced by the core, and the total.
    const table = await screen.findByTestId('batch-table');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(4);
    const each = await singlePrice(prompts[0]);
    rows.forEach((r, i) => {
      const cells = within(r).getAllByRole('cell');
      expect(cells[0]).toHaveTextContent(String(i + 1));
      expect(cells[1]).toHaveTextContent(prompts[i]);
      expect(cells[2]).toHaveTextContent(String(each));
    });
    expect(screen.getByTestId('batch-total').textContent).toBe(`4 items, about ${creditsLabel(each * 4)} in all`);
    expect(screen.queryByTestId('batch-problems')).toBeNull();
    expect(await core.api.listTasks({ limit: 10 })).toEqual([]);

    // Start: the batch in the queue, its four tasks one by one.
    const startButton = screen.getByTestId('batch-start');
    expect(startButton).toHaveTextContent('Start 4 items');
    await user.click(startButton);
    expect(await screen.findByTestId('batch-started')).toHaveTextContent('4 items');
    expect(screen.queryByTestId('batch-table')).toBeNull();
    const batch = await onlyBatch();
    expect([batch.items, batch.model, batch.cap_credits]).toEqual([4, MODEL, each * 4]);
    const row = await screen.findByTestId(`batch-${batch.id}`);
    expect(within(screen.getByTestId('queue')).getByTestId(`batch-${batch.id}`)).toBe(row);
    expect(row).toHaveTextContent(batch.name);
    await waitFor(() => expect(taskRows()).toHaveLength(4), { timeout: 15000 });
    const tasks = await core.api.listTasks({ limit: 10 });
    expect(tasks.map((t) => t.batch_id)).toEqual([batch.id, batch.id, batch.id, batch.id]);
    expect(tasks.map((t) => t.input.prompt).reverse()).toEqual(prompts);

    // They land; the batch says all sent, what it spent against its cap.
    await waitFor(() => expect(taskRows().every((r) => r.dataset.status === 'succeeded' && r.dataset.downloaded === 'true')).toBe(true), {
      timeout: 40000,
    });
    await waitFor(() => expect(row).toHaveAttribute('data-state', 'done'));
    expect(row).toHaveTextContent('All sent');
    const done = await onlyBatch();
    expect(done.committed_credits).toBeGreaterThan(0);
    expect(screen.getByTestId(`batch-${batch.id}-figures`).textContent).toBe(
      `4 of 4 sent · ${creditsLabel(done.committed_credits)} of a ${formatCredits(each * 4)}-credit cap`,
    );
    expect(screen.queryByTestId(`batch-${batch.id}-pause`)).toBeNull();
    expect(screen.queryByTestId(`batch-${batch.id}-cancel`)).toBeNull();

    // The gallery, filtered to the batch: its four.
    await core.api.submitTask({ model: MODEL, input: { ...tasks[0].input, prompt: 'not of the batch' } });
    await user.click(screen.getByTestId(`batch-${batch.id}-show`));
    await screen.findByTestId('gallery');
    const chip = await screen.findByTestId('gallery-filter-batch');
    expect(chip).toHaveTextContent(batch.name);
    await waitFor(() => expect(screen.getByTestId('gallery-count')).toHaveTextContent(countLabel(4, 'all')));
    // "Show all" lifts the filter.
    await user.click(within(chip).getByRole('button', { name: /Show every result/ }));
    expect(screen.queryByTestId('gallery-filter-batch')).toBeNull();

    // The spend view counts what the batch spent, under the model's name (as everywhere else).
    // (jsdom has no 2D canvas: the view says so; the chart itself is the end-to-end test's.)
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
    await user.click(screen.getByTestId('nav-spend'));
    const name = (await core.api.getCatalogue()).find((m) => m.id === MODEL)!.name;
    await waitFor(() => expect(screen.getAllByTestId('spend-model-row').map((r) => r.dataset.model)).toEqual([MODEL]));
    const modelRow = screen.getByTestId('spend-model-row');
    expect(within(modelRow).getByRole('rowheader')).toHaveTextContent(name);
    expect(screen.getByTestId('spend-day-row')).toHaveTextContent(`${name} `);
  }, 90000);

  it('with a bad line names the line, offers no start and sends nothing', async () => {
    const user = await openPanel();
    const long = 'x'.repeat(10_001);
    await paste(user, `a red fox in fresh snow\n${long}\nan owl at dusk`);
    await user.click(screen.getByTestId('batch-review'));
    const problems = await screen.findByTestId('batch-problems');
    expect(problems).toHaveTextContent('One line needs fixing; nothing was sent.');
    const items = within(problems).getAllByRole('listitem');
    expect(items).toHaveLength(1);
    expect(items[0]).toHaveTextContent(/^Line 2: /);
    expect(items[0]).toHaveAttribute('data-line', '2');
    expect(screen.queryByTestId('batch-start')).toBeNull();
    expect(screen.queryByTestId('batch-table')).toBeNull();

    // CSV: a value the catalogue refuses, on its own line (the header is line 1).
    await user.selectOptions(screen.getByTestId('batch-format'), 'csv');
    await user.clear(screen.getByTestId('batch-text'));
    await paste(user, 'prompt,n_frames\na fox,10\nan owl,7\nbees,15');
    await user.click(screen.getByTestId('batch-review'));
    await waitFor(() => expect(within(screen.getByTestId('batch-problems')).getAllByRole('listitem')[0]).toHaveTextContent(/^Line 3: /));
    expect(within(screen.getByTestId('batch-problems')).getAllByRole('listitem')).toHaveLength(1);
    expect(screen.queryByTestId('batch-start')).toBeNull();

    // Nothing was written or sent.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await core.api.listBatches({ limit: 20 })).toEqual([]);
    expect(await core.api.listTasks({ limit: 10 })).toEqual([]);
    expect(taskRows()).toHaveLength(0);
  });
});

describe('a list opened from a file', () => {
  it('is read as its name says, by the core, unless a format is chosen', async () => {
    const user = await openPanel();
    const plans = vi.spyOn(core.api, 'planBatch');
    const csv = 'prompt,n_frames\na fox in the snow,10\nan owl at dusk,15\n';
    // (jsdom's File has no text(): the window's webview has.)
    const file = Object.assign(new File([csv], 'Shots.CSV', { type: 'text/csv' }), { text: async () => csv });
    await user.upload(screen.getByTestId('batch-file'), file);
    await waitFor(() => expect(screen.getByTestId('batch-text')).toHaveValue(csv));
    const select = screen.getByTestId('batch-format');
    expect(select).toHaveValue('file');
    expect(within(select).getByRole('option', { selected: true })).toHaveTextContent('As its name says (Shots.CSV)');

    // The core chose CSV by the name: two rows (the header is line 1), their own prompts.
    await user.click(screen.getByTestId('batch-review'));
    const rows = () => within(screen.getByTestId('batch-table')).getAllByRole('row').slice(1);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(rows().map((r) => within(r).getAllByRole('cell')[0].textContent)).toEqual(['2', '3']);
    expect(rows()[1]).toHaveTextContent('an owl at dusk');
    expect(screen.getByTestId('batch-read-as')).toHaveTextContent('Shots.CSV is read as CSV (first line names the fields)');
    // The window sent the file's name, not a format of its own.
    expect(plans.mock.calls[0][0].request).toMatchObject({ format: null, file_name: 'Shots.CSV', text: csv });

    // A format chosen wins over the name: as prompts, the header is a prompt too.
    await user.selectOptions(select, 'lines');
    expect(screen.getByTestId('batch-start')).toBeDisabled();
    await user.click(screen.getByTestId('batch-review'));
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(screen.queryByTestId('batch-read-as')).toBeNull();
    expect(plans.mock.calls[1][0].request).toMatchObject({ format: 'lines', file_name: 'Shots.CSV' });
    expect(await core.api.listBatches({ limit: 20 })).toEqual([]);
  });
});

describe('variations', () => {
  it('show the total for the chosen number and send that many tasks', async () => {
    const user = userEvent.setup();
    render(App, { props: { api: core.api, initial: { screen: 'create', model: MODEL } } });
    await screen.findByTestId('model-form');
    const prompt = 'a lighthouse at dusk';
    await user.type(screen.getByTestId('input-prompt'), prompt);
    const each = await singlePrice(prompt);
    await waitFor(() => expect(screen.getByTestId('cost-estimate')).toHaveTextContent(creditsLabel(each)));
    expect(screen.queryByTestId('variations-total')).toBeNull();

    await user.selectOptions(screen.getByTestId('variations'), '3');
    const total = await screen.findByTestId('variations-total');
    expect(total).toHaveTextContent(`${creditsLabel(each * 3)} for 3`);
    // The core agrees: three copies of the form, three times the price.
    const plan = await core.api.planBatch({
      request: { model: MODEL, base: { prompt }, format: 'variations', text: '', count: 3, cap_credits: null, name: null },
    });
    expect(plan.estimate_credits).toBe(each * 3);

    await user.click(screen.getByTestId('submit'));
    expect(await screen.findByTestId('form-sent')).toHaveTextContent('3 variations going to Kie.');
    const batch = await onlyBatch();
    expect([batch.format, batch.items]).toEqual(['variations', 3]);
    await screen.findByTestId(`batch-${batch.id}`);
    await waitFor(() => expect(taskRows()).toHaveLength(3), { timeout: 15000 });
    const tasks = await core.api.listTasks({ limit: 10 });
    expect(tasks.map((t) => [t.batch_id, t.input.prompt])).toEqual([
      [batch.id, prompt],
      [batch.id, prompt],
      [batch.id, prompt],
    ]);
  }, 30000);
});

describe('a batch in the queue', () => {
  it('pauses (nothing more sent), resumes, and cancels the rest after asking', async () => {
    const user = await openPanel();
    const prompts = Array.from({ length: 8 }, (_, i) => `shot number ${i + 1} of a long day`);
    await paste(user, prompts.join('\n'));
    await user.click(screen.getByTestId('batch-review'));
    await user.click(await screen.findByTestId('batch-start'));
    await screen.findByTestId('batch-started');
    // Creates go 1 s apart: the batch is still sending for several seconds.
    const batch = await onlyBatch();
    const id = `batch-${batch.id}`;
    await user.click(await screen.findByTestId(`${id}-pause`));
    const row = screen.getByTestId(id);
    await waitFor(() => expect(row).toHaveAttribute('data-state', 'paused'));
    expect(row).toHaveTextContent('Paused');
    expect(screen.queryByTestId(`${id}-pause`)).toBeNull();
    const paused = (await core.api.listBatches({ limit: 1 }))[0];
    expect(paused.pending).toBeGreaterThan(0);
    // Paused: nothing more goes out.
    await new Promise((r) => setTimeout(r, 2500));
    const still = (await core.api.listBatches({ limit: 1 }))[0];
    expect([still.state, still.sent]).toEqual(['paused', paused.sent]);
    expect((await core.api.listTasks({ limit: 20 })).length).toBe(paused.sent);
    expect(screen.getByTestId(`${id}-figures`)).toHaveTextContent(`${paused.sent} of 8 sent`);

    // Resume, then pause again at once.
    await user.click(screen.getByTestId(`${id}-resume`));
    await waitFor(() => expect(row).toHaveAttribute('data-state', 'running'));
    expect(row).toHaveTextContent('Sending');
    await user.click(await screen.findByTestId(`${id}-pause`));
    await waitFor(() => expect(row).toHaveAttribute('data-state', 'paused'));

    // Cancel asks first; "Keep them" keeps them.
    await user.click(screen.getByTestId(`${id}-cancel`));
    const dialog = await screen.findByTestId('confirm-dialog');
    const left = (await core.api.listBatches({ limit: 1 }))[0];
    expect(left.pending).toBeGreaterThan(0);
    expect(dialog).toHaveTextContent(`Cancel the ${left.pending} items not sent yet?`);
    await user.click(screen.getByTestId('confirm-no'));
    await waitFor(() => expect(screen.queryByTestId('confirm-dialog')).toBeNull());
    expect((await core.api.listBatches({ limit: 1 }))[0].state).toBe('paused');

    await user.click(screen.getByTestId(`${id}-cancel`));
    await user.click(await screen.findByTestId('confirm-yes'));
    // Cancelled, nothing left to send: it leaves the queue; what was sent stays there.
    await waitFor(() => expect(screen.queryByTestId(id)).toBeNull());
    const done = (await core.api.listBatches({ limit: 1 }))[0];
    expect([done.state, done.pending, done.actions]).toEqual(['cancelled', 0, []]);
    expect(done.sent + done.cancelled).toBe(8);
    expect(done.cancelled).toBe(left.pending);
    expect(taskRows()).toHaveLength(done.sent);
  }, 30000);
});
