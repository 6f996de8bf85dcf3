// The whole window against the real core (the browser server): welcome → demo → every model's
// form from the catalogue → submit → the queue; validation problems under their fields, input
// kept; what Kie said when a task failed (the server's Kie simulator, made to misbehave).
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import type { StudioApi } from '../src/lib/api';
import { initialForm, toInput, useSegments } from '../src/lib/logic/form';
import { CATALOGUE } from './catalogue';
import { seedDemoLibrary, server, serverPerTest, simFault } from './server';

const core = serverPerTest();

/** The demo (its generation takes seconds), seeded with `many` finished videos. */
async function startDemo(many = 0) {
  if (many > 0) await seedDemoLibrary(many);
  const user = userEvent.setup();
  render(App, { props: { api: core.api } });
  await screen.findByTestId('welcome');
  await user.click(screen.getByTestId('try-demo'));
  await screen.findByTestId('model-form');
  return user;
}

/** The real library on the server's own Kie simulator (quick: 1.5 s a video). */
async function startReal(before?: (api: StudioApi) => Promise<void>) {
  await core.api.setKey({ key: server().sim_key });
  await before?.(core.api);
  const user = userEvent.setup();
  render(App, { props: { api: core.api } });
  await screen.findByTestId('model-form');
  expect(screen.queryByTestId('demo-badge')).toBeNull();
  return user;
}

async function chooseModel(user: ReturnType<typeof userEvent.setup>, id: string) {
  await user.click(screen.getByTestId(`model-option-${id}`));
  await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', id));
}

describe('the window', () => {
  it('welcomes, keeps a rejected key, and says why', async () => {
    const user = userEvent.setup();
    render(App, { props: { api: core.api } });
    const input = (await screen.findByTestId('key-input')) as HTMLInputElement;
    expect(input.type).toBe('password');
    await user.type(input, 'bad-key-1234');
    await user.click(screen.getByTestId('key-save'));
    expect(await screen.findByTestId('key-error', {}, { timeout: 10000 })).toHaveTextContent('Kie did not accept this key');
    expect(input.value).toBe('bad-key-1234');
    const good = server().sim_key;
    await user.clear(input);
    await user.type(input, good);
    await user.click(screen.getByTestId('key-save'));
    await screen.findByTestId('model-form', {}, { timeout: 10000 });
    expect(screen.queryByTestId('demo-badge')).toBeNull();
    await user.click(screen.getByTestId('nav-settings'));
    expect(await screen.findByTestId('key-last4')).toHaveTextContent(good.slice(-4));
    expect(document.body.textContent).not.toContain(good);
  });

  it('starts the demo with a balance and the badge', async () => {
    await startDemo();
    expect(screen.getByTestId('demo-badge')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('balance')).toHaveTextContent(/[\d,]+ credits/));
    expect(screen.getByTestId('queue')).toBeInTheDocument();
  });

  it('renders the form of every model from the catalogue', async () => {
    const user = await startDemo();
    const catalogue = await core.api.getCatalogue();
    expect(catalogue).toHaveLength(CATALOGUE.length);
    for (const model of catalogue) {
      await chooseModel(user, model.id);
      const form = screen.getByTestId('model-form');
      expect(form).toHaveTextContent(model.name);
      // Fields the core hides for the starting values are not drawn (and come back when they apply).
      const { hidden } = await core.api.checkInput({ model: model.id, input: toInput(model, initialForm(model)) });
      const shown = model.fields.filter((f) => !hidden.includes(f.name));
      await waitFor(() => {
        for (const name of hidden) expect(within(form).queryByTestId(`field-${name}`), `${model.id}.${name} hidden`).toBeNull();
      });
      if (shown.some((f) => f.advanced)) await user.click(within(form).getByTestId('more-options'));
      for (const f of shown) {
        const field = within(form).getByTestId(`field-${f.name}`);
        expect(field, `${model.id}.${f.name}`).toHaveTextContent(f.label);
        if (['text', 'textarea', 'url', 'number', 'toggle'].includes(f.widget)) {
          expect(within(field).getByTestId(`input-${f.name}`)).toBeInTheDocument();
        } else if (f.widget === 'select') {
          if (useSegments(f)) {
            for (const o of f.options ?? []) expect(within(field).getByTestId(`input-${f.name}-${String(o.value)}`)).toBeInTheDocument();
            const def = within(field).getByTestId(`input-${f.name}-${String(f.default)}`);
            expect(def).toHaveAttribute('aria-checked', 'true');
          } else {
            expect(within(field).getByTestId(`input-${f.name}`)).toBeInTheDocument();
          }
        }
      }
      await waitFor(() => expect(screen.getByTestId('cost-estimate')).toHaveTextContent('credits'));
    }
  });

  it('submits text-to-video and follows it in the queue until ready', async () => {
    const user = await startReal();
    await chooseModel(user, 'sora-2-text-to-video');
    await waitFor(() => expect(screen.getByTestId('balance')).toHaveTextContent(/[\d,]+ credits/));
    const before = Number(/([\d,]+) credits/.exec(screen.getByTestId('balance').textContent!)![1].replace(/,/g, ''));
    await user.type(screen.getByTestId('input-prompt'), 'A red fox trots through fresh snow');
    await user.click(screen.getByTestId('input-n_frames-15'));
    await waitFor(() => expect(screen.getByTestId('cost-estimate')).toHaveTextContent('45 credits'));
    await user.click(screen.getByTestId('submit'));
    const task = await screen.findByTestId('task-1');
    expect(within(task).getByText('A red fox trots through fresh snow')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-status', 'succeeded'), { timeout: 10000 });
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-downloaded', 'true'), { timeout: 10000 });
    expect(screen.getByTestId('task-1-state')).toHaveTextContent('Ready');
    // The form keeps its values, for variations.
    expect(screen.getByTestId('input-prompt')).toHaveValue('A red fox trots through fresh snow');
    expect(screen.getByTestId('input-n_frames-15')).toHaveAttribute('aria-checked', 'true');
    // The balance follows.
    await waitFor(() => expect(screen.getByTestId('balance')).toHaveTextContent(`${(before - 45).toLocaleString('en-US')} credits`), {
      timeout: 10000,
    });
    // And the gallery has it.
    await user.click(screen.getByTestId('nav-gallery'));
    await screen.findByTestId('result-1');
  });

  it('submits with Ctrl+Enter', async () => {
    const user = await startReal();
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'Waves at dusk');
    await user.keyboard('{Control>}{Enter}{/Control}');
    await screen.findByTestId('task-1');
  });

  it('shows a problem under its field and keeps the input', async () => {
    const user = await startDemo();
    await chooseModel(user, 'sora-2-image-to-video');
    await user.type(screen.getByTestId('input-image_urls-0'), 'ftp://example.com/photo.jpg');
    await user.click(screen.getByTestId('submit'));
    expect(await screen.findByTestId('error-prompt')).toHaveTextContent('Prompt is required.');
    expect(await screen.findByTestId('error-image_urls[0]')).toHaveTextContent('must be a full web link');
    expect(screen.getByTestId('form-error')).toHaveTextContent('Nothing was sent');
    expect(screen.getByTestId('input-image_urls-0')).toHaveValue('ftp://example.com/photo.jpg');
    expect(screen.queryByTestId('task-1')).toBeNull();
    // Fixing it clears the problem while typing.
    await user.clear(screen.getByTestId('input-image_urls-0'));
    await user.type(screen.getByTestId('input-image_urls-0'), 'https://example.com/photo.jpg');
    await waitFor(() => expect(screen.queryByTestId('error-image_urls[0]')).toBeNull());
  });

  it('shows a problem inline while typing, before any submit, and only for what was touched', async () => {
    const user = await startDemo();
    await chooseModel(user, 'sora-watermark-remover');
    await user.type(screen.getByTestId('input-video_url'), 'https://example.com/v/1');
    expect(await screen.findByTestId('error-video_url')).toHaveTextContent('sora.chatgpt.com');
    await chooseModel(user, 'sora-2-text-to-video');
    await new Promise((r) => setTimeout(r, 300));
    // A fresh form is not covered in red: the empty prompt is not an error yet.
    expect(screen.queryByTestId('error-prompt')).toBeNull();
  });

  it('says what Kie said when it could not make a video', async () => {
    const user = await startReal();
    await simFault({ endpoint: 'create', fault: { kind: 'fail_generation', code: '400', msg: 'The prompt was flagged by the content policy.' } });
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'Something');
    await user.click(screen.getByTestId('submit'));
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-status', 'failed'), { timeout: 10000 });
    const msg = screen.getByTestId('task-1-message');
    expect(msg).toHaveTextContent('Kie could not make this one.');
    expect(msg).toHaveTextContent('flagged');
  });

  // The server's picker returns tests/fixtures/uploads (`KIE_STUDIO_E2E_PICK` in
  // tests/globalSetup.ts): for each field, the files of the kind it takes, one for a single link.
  it('uploads images and shows their thumbnails', async () => {
    const user = await startReal();
    await chooseModel(user, 'grok-imagine/image-to-video');
    await user.click(screen.getByTestId('pick-image_urls'));
    await screen.findByTestId('thumb-1', {}, { timeout: 10000 });
    expect(screen.getByTestId('thumb-0')).toBeInTheDocument();
    const first = (screen.getByTestId('input-image_urls-0') as HTMLInputElement).value;
    expect(first).toMatch(/^https?:\/\/.*\.jpg$/);
    expect(screen.getByText(/beach\.jpg/)).toBeInTheDocument();
    await user.click(screen.getByTestId('add-url'));
    expect(screen.getByTestId('input-image_urls-2')).toHaveValue('');
    await user.click(screen.getByTestId('remove-url-0'));
    expect((screen.getByTestId('input-image_urls-0') as HTMLInputElement).value).toMatch(/\.png$/);
  });

  it('uploads a clip and a sound for references, and a picture for a single link', async () => {
    const user = await startReal();
    await chooseModel(user, 'bytedance/seedance-2');
    await user.click(screen.getByTestId('pick-reference_video_urls'));
    await waitFor(() => expect(screen.getByTestId('thumb-0')).toHaveAttribute('data-kind', 'video'), { timeout: 10000 });
    expect((screen.getByTestId('input-reference_video_urls-0') as HTMLInputElement).value).toMatch(/\.mp4$/);
    expect(screen.getByText(/2 s · MP4/)).toBeInTheDocument();
    await user.click(screen.getByTestId('pick-reference_audio_urls'));
    await waitFor(() => expect((screen.getByTestId('input-reference_audio_urls-0') as HTMLInputElement).value).toMatch(/\.wav$/), {
      timeout: 10000,
    });
    await chooseModel(user, 'hailuo/2-3-image-to-video-pro');
    await user.click(screen.getByTestId('pick-image_url'));
    await waitFor(() => expect((screen.getByTestId('input-image_url') as HTMLInputElement).value).toMatch(/\.jpg$/), {
      timeout: 10000,
    });
    expect(screen.getByTestId('thumb-image_url').tagName).toBe('IMG');
  });

  it('edits a storyboard: add, move, remove shots, with the time left', async () => {
    const user = await startDemo();
    await chooseModel(user, 'sora-2-pro-storyboard');
    // The first shot starts as long as the video (15 s by default).
    await waitFor(() => expect(screen.getByTestId('shot-0-duration')).toHaveValue('15'));
    await waitFor(() => expect(screen.getByTestId('time-left')).toHaveTextContent('All 15 s used'));
    await user.clear(screen.getByTestId('shot-0-duration'));
    await user.type(screen.getByTestId('shot-0-duration'), '6');
    await waitFor(() => expect(screen.getByTestId('time-left')).toHaveTextContent('9 s left of 15 s'));
    await user.click(screen.getByTestId('add-shot'));
    await waitFor(() => expect(screen.getByTestId('shot-1-duration')).toHaveValue('9'));
    await user.type(screen.getByTestId('shot-0-scene'), 'First');
    await user.type(screen.getByTestId('shot-1-scene'), 'Second');
    await user.click(screen.getByTestId('move-shot-up-1'));
    expect(screen.getByTestId('shot-0-scene')).toHaveValue('Second');
    expect(screen.getByTestId('shot-1-scene')).toHaveValue('First');
    await user.click(screen.getByTestId('input-n_frames-25'));
    await waitFor(() => expect(screen.getByTestId('time-left')).toHaveTextContent('10 s left of 25 s'));
    await user.click(screen.getByTestId('remove-shot-0'));
    expect(screen.getByTestId('shot-0-scene')).toHaveValue('First');
    expect(screen.queryByTestId('shot-1-scene')).toBeNull();
    // A shot without a scene: its problem shows under it after a submit.
    await user.click(screen.getByTestId('add-shot'));
    await user.click(screen.getByTestId('submit'));
    expect(await screen.findByTestId('error-shots[1].Scene')).toBeInTheDocument();
  });

  it('completes @handles in prompts', async () => {
    const user = await startReal(async (api) => {
      for (const handle of ['sky_ranger', 'sky_diver', 'barista_bo']) {
        await api.addCharacter({ handle, characterId: `char_${handle}`, prompt: null });
      }
    });
    await chooseModel(user, 'sora-2-text-to-video');
    const prompt = screen.getByTestId('input-prompt') as HTMLTextAreaElement;
    await user.type(prompt, 'A walk with @sk');
    const list = await screen.findByTestId('handle-completions');
    expect(within(list).getByTestId('handle-completion-sky_ranger')).toBeInTheDocument();
    await user.keyboard('{ArrowDown}');
    const second = within(list).getAllByRole('option')[1];
    expect(second).toHaveAttribute('aria-selected', 'true');
    const handle = second.getAttribute('data-testid')!.replace('handle-completion-', '');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(prompt.value).toBe(`A walk with @${handle} `));
    expect(screen.queryByTestId('handle-completions')).toBeNull();
    await user.type(prompt, 'and @ba');
    await screen.findByTestId('handle-completion-barista_bo');
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('handle-completions')).toBeNull();
  });

  it('picks the source video of a character from finished videos', async () => {
    const user = await startDemo(12);
    await chooseModel(user, 'sora-2-characters-pro');
    const picker = await screen.findByTestId('origin-video-picker');
    const first = await waitFor(() => {
      const v = picker.querySelector<HTMLElement>('[data-testid^="origin-video-"]');
      expect(v).not.toBeNull();
      return v!;
    });
    await user.click(first);
    await waitFor(() => expect((screen.getByTestId('input-origin_task_id') as HTMLInputElement).value).toMatch(/^\S{8,}$/));
  });

  it('handles an unknown outcome honestly: explain, attach an id, or resubmit on purpose', async () => {
    const user = await startReal();
    await simFault({ endpoint: 'create', fault: { kind: 'lose_response' } });
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'A heron');
    await user.click(screen.getByTestId('submit'));
    const task = await screen.findByTestId('task-1');
    await waitFor(() => expect(task).toHaveAttribute('data-status', 'outcome_unknown'), { timeout: 10000 });
    expect(screen.getByTestId('task-1-message')).toHaveTextContent("won't pay twice");
    // The task's events can come before the answer to the submit.
    expect(await screen.findByTestId('form-error')).toHaveTextContent("We don't know whether Kie received this task.");

    await user.click(screen.getByTestId('task-1-check-again'));
    expect(await screen.findByTestId('task-1-note')).toHaveTextContent('Still unknown');

    await user.click(screen.getByTestId('task-1-resubmit'));
    const dialog = await screen.findByTestId('confirm-dialog');
    expect(dialog).toHaveTextContent('charged for both');
    await user.click(screen.getByTestId('confirm-no'));
    expect(screen.queryByTestId('task-2')).toBeNull();

    await user.click(screen.getByTestId('task-1-attach'));
    await user.type(screen.getByTestId('task-1-attach-input'), 'abc123');
    await user.click(screen.getByTestId('task-1-attach-save'));
    await waitFor(() => expect(screen.getByTestId('task-1')).not.toHaveAttribute('data-status', 'outcome_unknown'));
  });

  it('stops tracking a running task after saying Kie may still charge', async () => {
    // The demo's videos take seconds: time to cancel one.
    const user = await startDemo();
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'A slow one');
    await user.click(screen.getByTestId('submit'));
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-status', 'running'));
    await user.click(screen.getByTestId('task-1-cancel'));
    expect(await screen.findByTestId('confirm-dialog')).toHaveTextContent('may still finish and charge');
    await user.click(screen.getByTestId('confirm-yes'));
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-status', 'cancelled'));
    expect(screen.getByTestId('task-1-state')).toHaveTextContent('Cancelled');
  });

  it('says why a task failed, in plain words', async () => {
    const user = await startReal();
    await simFault({ endpoint: 'create', fault: { kind: 'code', code: 402, msg: 'Credits insufficient' } });
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'A castle');
    await user.click(screen.getByTestId('submit'));
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-status', 'failed'), { timeout: 10000 });
    expect(screen.getByTestId('task-1-message')).toHaveTextContent('Not enough credits. Top up at kie.ai, then try again.');
    expect(await screen.findByTestId('form-error')).toHaveTextContent('Not enough credits.');
  });

  // Not ported: a task turns stale only after 6 h running (18 min at the tests' poll scale);
  // the deleted fake had a `[[stale]]` prompt marker. Needs a server hook that marks a task stale.
  it.skip('checks a stale task again', () => {});

  it('lists characters and removes the key from the settings', async () => {
    const user = await startReal(async (api) => {
      await api.addCharacter({ handle: 'sky_ranger', characterId: 'char_sky_ranger', prompt: null });
    });
    await user.click(screen.getByTestId('nav-characters'));
    await screen.findByTestId('character-sky_ranger');
    await user.click(screen.getByTestId('nav-gallery'));
    expect(await screen.findByTestId('gallery')).toBeInTheDocument();
    await user.click(screen.getByTestId('nav-settings'));
    await user.click(await screen.findByTestId('remove-key'));
    await user.click(await screen.findByTestId('confirm-yes'));
    // Without a key and without the demo, the welcome screen asks for one.
    await screen.findByTestId('welcome');
  });

  it('remembers the last model used', async () => {
    const user = await startDemo();
    await chooseModel(user, 'sora-2-pro-storyboard');
    expect(localStorage.getItem('kie-studio.last-model')).toBe('sora-2-pro-storyboard');
  });
});
