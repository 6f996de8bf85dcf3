// Create against the real core (the browser server): the model picker grouped by family and
// searchable; what Kie said of a paused model and the switch to a live alternative; fields the
// core hides; `@` names from the form itself; the estimate following every field.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import type { StudioApi } from '../src/lib/api';
import type { ModelSpec } from '../src/lib/bindings/ModelSpec';
import type { JsonValue } from '../src/lib/bindings/serde_json/JsonValue';
import { initialForm, toInput } from '../src/lib/logic/form';
import { creditsLabel } from '../src/lib/logic/format';
import { availabilityTitle, byFamily } from '../src/lib/logic/models';
import { server, serverPerTest, simFault } from './server';

type User = ReturnType<typeof userEvent.setup>;

const core = serverPerTest();

/** The demo library, the window on Create. */
async function startDemo(model?: string): Promise<User> {
  await core.api.startDemo();
  const user = userEvent.setup();
  render(App, { props: { api: core.api, initial: { screen: 'create', model } } });
  await screen.findByTestId('model-form');
  return user;
}

/** The real library on the server's own Kie simulator. */
async function startReal(before?: (api: StudioApi) => Promise<void>): Promise<User> {
  await core.api.setKey({ key: server().sim_key });
  await before?.(core.api);
  const user = userEvent.setup();
  render(App, { props: { api: core.api } });
  await screen.findByTestId('model-form');
  return user;
}

async function chooseModel(user: User, id: string) {
  await user.click(screen.getByTestId(`model-option-${id}`));
  await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', id));
}

function options(): string[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid^="model-option-"]')].map((e) => e.dataset.testid!.replace('model-option-', ''));
}

function familyHeadings(): string[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid^="model-family-"]:not([data-testid^="model-family-toggle-"])')].map((e) =>
    e.dataset.testid!.replace('model-family-', ''),
  );
}

/** What the core says `input` costs, as the form shows it. */
async function priceOf(spec: ModelSpec, patch: Record<string, JsonValue>): Promise<string> {
  const check = await core.api.checkInput({ model: spec.id, input: { ...toInput(spec, initialForm(spec)), ...patch } });
  expect(check.credits, `${spec.id} ${JSON.stringify(patch)} has a price`).not.toBeNull();
  return creditsLabel(check.credits!);
}

describe('the model picker', () => {
  it('groups models by family in catalogue order, with prices from the core, and searches them', async () => {
    const user = await startDemo();
    const cards = await core.api.listModels();
    expect(cards.length).toBeGreaterThanOrEqual(20);
    const families = byFamily(cards).map((f) => f.family);
    expect(families[0]).toBe('Sora');
    await waitFor(() => expect(familyHeadings()).toEqual(families));
    for (const f of families) {
      const group = screen.getByTestId(`model-family-${f}`);
      expect(within(group).getByRole('heading', { level: 3 })).toHaveTextContent(f);
    }
    // One radio group, every model once, in catalogue order.
    const radios = within(screen.getByRole('radiogroup', { name: 'What do you want to make?' })).getAllByRole('radio');
    expect(radios).toHaveLength(cards.length);
    expect(options()).toEqual(byFamily(cards).flatMap((f) => f.items.map((c) => c.id)));
    // A card: its summary, what it takes and makes, and its price range from the core.
    const kling = cards.find((c) => c.id === 'kling-3.0/video')!;
    const card = screen.getByTestId('model-option-kling-3.0/video');
    expect(card).toHaveTextContent(kling.summary);
    expect(card).toHaveTextContent(kling.makes!);
    expect(card).toHaveTextContent('Text + image');
    expect(screen.getByTestId('model-price-kling-3.0/video')).toHaveTextContent(/^[\d,.]+–[\d,.]+ credits/);

    // The search narrows to the matches (name, family, summary), headings follow.
    const search = screen.getByTestId('model-search');
    await user.type(search, 'kling');
    await waitFor(() => expect(familyHeadings()).toEqual(['Kling']));
    expect(options().length).toBe(cards.filter((c) => c.family === 'Kling').length);
    await user.clear(search);
    await user.type(search, 'veo fast');
    await waitFor(() => expect(options()).toEqual(['veo3_fast']));
    await user.clear(search);
    await user.type(search, 'zzzz');
    expect(await screen.findByTestId('model-search-empty')).toHaveTextContent('No model matches “zzzz”.');
    expect(options()).toEqual([]);
    await user.keyboard('{Escape}');
    await waitFor(() => expect(options()).toHaveLength(cards.length));

    // A family folds away, and says so.
    const toggle = screen.getByTestId('model-family-toggle-Veo');
    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(options().some((id) => id.startsWith('veo'))).toBe(false);
    await user.click(toggle);
    expect(options().some((id) => id.startsWith('veo'))).toBe(true);
  });

  it('moves through the models with the arrow keys', async () => {
    const user = await startDemo('sora-2-text-to-video');
    const first = screen.getByTestId('model-option-sora-2-text-to-video');
    expect(first).toHaveAttribute('aria-checked', 'true');
    expect(first).toHaveAttribute('tabindex', '0');
    first.focus();
    await user.keyboard('{ArrowDown}');
    const second = options()[1];
    await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', second));
    expect(document.activeElement).toBe(screen.getByTestId(`model-option-${second}`));
    await user.keyboard('{End}');
    const last = options()[options().length - 1];
    await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', last));
    await user.keyboard('{ArrowDown}');
    await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', 'sora-2-text-to-video'));
  });
});

describe('a model Kie has paused', () => {
  it('says so on the picker and the form, and switches to the live alternative with the prompt', async () => {
    const user = await startReal();
    await chooseModel(user, 'sora-2-text-to-video');
    expect(screen.queryByTestId('model-status')).toBeNull();
    await simFault({ endpoint: 'create', fault: { kind: 'paused' } });
    await user.type(screen.getByTestId('input-prompt'), 'A red fox trots through fresh snow');
    await user.click(screen.getByTestId('submit'));
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-status', 'failed'), { timeout: 10000 });

    const notice = await screen.findByTestId('model-status', {}, { timeout: 5000 });
    const card = (await core.api.listModels()).find((c) => c.id === 'sora-2-text-to-video')!;
    expect(card.status?.state).toBe('paused');
    expect(notice).toHaveTextContent(availabilityTitle(card.status!));
    expect(notice).toHaveTextContent(new Date(card.status!.since_ms).toLocaleDateString(undefined, { day: 'numeric', month: 'short' }));
    expect(screen.getByTestId('model-status-message')).toHaveTextContent(card.status!.message);
    expect(screen.getByTestId('model-status-sora-2-text-to-video')).toHaveTextContent('Paused');

    const alt = (await core.api.getCatalogue()).find((m) => m.id === card.alternative)!;
    expect(alt).toBeTruthy();
    const button = screen.getByTestId('try-alternative');
    expect(button).toHaveTextContent(`Try ${alt.name} instead`);
    await user.click(button);
    await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', alt.id));
    expect(screen.getByTestId('input-prompt')).toHaveValue('A red fox trots through fresh snow');
    expect(screen.getByTestId(`model-option-${alt.id}`)).toHaveAttribute('aria-checked', 'true');
    expect(screen.queryByTestId('model-status')).toBeNull();
    // Nothing was sent again by itself.
    expect(screen.queryByTestId('task-2')).toBeNull();
    expect(await core.api.listTasks({ limit: 10 })).toHaveLength(1);
  });
});

describe('fields the core hides', () => {
  it('shows Kling’s shots only with several shots on, hides its prompt then, and keeps both values', async () => {
    const user = await startDemo('kling-3.0/video');
    await waitFor(() => expect(screen.getByTestId('field-prompt')).toBeInTheDocument());
    expect(screen.queryByTestId('field-multi_prompt')).toBeNull();
    await user.type(screen.getByTestId('input-prompt'), 'One long take');
    await user.click(screen.getByTestId('input-multi_shots'));
    await waitFor(() => expect(screen.getByTestId('field-multi_prompt')).toBeInTheDocument());
    await waitFor(() => expect(screen.queryByTestId('field-prompt')).toBeNull());
    await user.type(screen.getByTestId('input-multi_prompt-0-prompt'), 'First shot');
    await user.click(screen.getByTestId('input-multi_shots'));
    await waitFor(() => expect(screen.queryByTestId('field-multi_prompt')).toBeNull());
    expect(await screen.findByTestId('input-prompt')).toHaveValue('One long take');
    await user.click(screen.getByTestId('input-multi_shots'));
    expect(await screen.findByTestId('input-multi_prompt-0-prompt')).toHaveValue('First shot');
  });

  it('shows Grok’s aspect ratio only with two images or more', async () => {
    const user = await startDemo('grok-imagine/image-to-video');
    await waitFor(() => expect(screen.getByTestId('field-image_urls')).toBeInTheDocument());
    await new Promise((r) => setTimeout(r, 300));
    expect(screen.queryByTestId('field-aspect_ratio')).toBeNull();
    if (!screen.queryByTestId('input-image_urls-0')) await user.click(screen.getByTestId('add-url'));
    await user.type(screen.getByTestId('input-image_urls-0'), 'https://example.com/a.png');
    await new Promise((r) => setTimeout(r, 300));
    expect(screen.queryByTestId('field-aspect_ratio')).toBeNull();
    await user.click(screen.getByTestId('add-url'));
    await user.type(screen.getByTestId('input-image_urls-1'), 'https://example.com/b.png');
    await waitFor(() => expect(screen.getByTestId('field-aspect_ratio')).toBeInTheDocument());
  });
});

describe('@ names from the form', () => {
  it('offers Kling’s element names (and no characters, which Kling cannot name), in the prompt and in shots', async () => {
    const user = await startReal(async (api) => {
      await api.addCharacter({ handle: 'fox_runner', characterId: 'char_fox_runner', prompt: null });
    });
    await chooseModel(user, 'kling-3.0/video');
    await user.click(screen.getByTestId('add-kling_elements'));
    await user.type(screen.getByTestId('input-kling_elements-0-name'), 'fox_mascot');
    // The core names what the prompt may mention once it has seen the element.
    await new Promise((r) => setTimeout(r, 600));
    const prompt = screen.getByTestId('input-prompt') as HTMLTextAreaElement;
    await user.type(prompt, 'A walk with @fo');
    const list = await screen.findByTestId('handle-completions');
    expect(within(list).getByTestId('mention-offer-fox_mascot')).toHaveTextContent('Element');
    expect(within(list).queryByTestId('handle-completion-fox_runner')).toBeNull();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(prompt.value).toBe('A walk with @fox_mascot '));

    // A shot's prompt may name the elements too.
    await user.click(screen.getByTestId('input-multi_shots'));
    const shot = (await screen.findByTestId('input-multi_prompt-0-prompt')) as HTMLTextAreaElement;
    await user.type(shot, '@fox');
    await screen.findByTestId('mention-offer-fox_mascot');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(shot.value).toBe('@fox_mascot '));

    // Where the catalogue says characters may be named (Sora's prompts), they are offered.
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'With @fo');
    await screen.findByTestId('handle-completion-fox_runner');
    expect(screen.queryByTestId('mention-offer-fox_mascot')).toBeNull();
  });

  it('offers @image1… for the pictures given to Grok', async () => {
    const user = await startDemo('grok-imagine/image-to-video');
    if (!screen.queryByTestId('input-image_urls-0')) await user.click(screen.getByTestId('add-url'));
    await user.type(screen.getByTestId('input-image_urls-0'), 'https://example.com/a.png');
    await user.click(screen.getByTestId('add-url'));
    await user.type(screen.getByTestId('input-image_urls-1'), 'https://example.com/b.png');
    await new Promise((r) => setTimeout(r, 600));
    await user.type(screen.getByTestId('input-prompt'), '@im');
    await screen.findByTestId('mention-offer-image1');
    expect(screen.getByTestId('mention-offer-image2')).toBeInTheDocument();
  });
});

describe('the estimate', () => {
  it('follows every field, per-second prices too (Kling’s length and mode)', async () => {
    const user = await startDemo('kling-3.0/video');
    const spec = (await core.api.getCatalogue()).find((m) => m.id === 'kling-3.0/video')!;
    expect(spec.pricing?.seconds_field).toBe('duration');
    const cost = () => screen.getByTestId('cost-estimate');
    await waitFor(() => expect(cost()).toHaveTextContent(/credits/));
    const duration = spec.fields.find((f) => f.name === 'duration')!;
    const longest = duration.options![duration.options!.length - 1];
    const expected = await priceOf(spec, { duration: longest.value });
    await user.selectOptions(screen.getByTestId('input-duration'), longest.label);
    await waitFor(() => expect(cost()).toHaveTextContent(expected));
    const mode = spec.fields.find((f) => f.name === 'mode')!;
    const other = mode.options!.find((o) => o.value !== mode.default)!;
    const withMode = await priceOf(spec, { duration: longest.value, mode: other.value });
    expect(withMode).not.toBe(expected);
    await user.click(screen.getByTestId(`input-mode-${String(other.value)}`));
    await waitFor(() => expect(cost()).toHaveTextContent(withMode));
  });

  it('follows a typed length (Seedance, whole seconds with a unit)', async () => {
    const user = await startDemo('bytedance/seedance-2');
    const spec = (await core.api.getCatalogue()).find((m) => m.id === 'bytedance/seedance-2')!;
    const field = screen.getByTestId('field-duration');
    expect(field).toHaveTextContent('s');
    const input = screen.getByTestId('input-duration') as HTMLInputElement;
    expect(input).toHaveAttribute('inputmode', 'numeric');
    const expected = await priceOf(spec, { duration: 12 });
    await user.clear(input);
    await user.type(input, '12');
    await waitFor(() => expect(screen.getByTestId('cost-estimate')).toHaveTextContent(expected));
  });
});
