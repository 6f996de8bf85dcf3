// The whole window against the fake backend: welcome → demo → every model's form from the
// catalogue → submit → the queue; validation problems under their fields, input kept.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { createFastFake } from '../src/lib/backend/fake';
import type { Backend } from '../src/lib/backend/types';
import { useSegments } from '../src/lib/logic/form';
import { CATALOGUE } from './catalogue';

let backend: Backend;

beforeEach(() => {
  localStorage.clear();
});
afterEach(() => {
  localStorage.clear();
});

async function startDemo(opts: Parameters<typeof createFastFake>[0] = {}) {
  backend = createFastFake(opts);
  const user = userEvent.setup();
  render(App, { props: { backend } });
  await screen.findByTestId('welcome');
  await user.click(screen.getByTestId('try-demo'));
  await screen.findByTestId('model-form');
  return user;
}

async function chooseModel(user: ReturnType<typeof userEvent.setup>, id: string) {
  await user.click(screen.getByTestId(`model-option-${id}`));
  await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', id));
}

describe('the window', () => {
  it('welcomes, keeps a rejected key, and says why', async () => {
    backend = createFastFake();
    const user = userEvent.setup();
    render(App, { props: { backend } });
    const input = (await screen.findByTestId('key-input')) as HTMLInputElement;
    expect(input.type).toBe('password');
    await user.type(input, 'bad-key-1234');
    await user.click(screen.getByTestId('key-save'));
    expect(await screen.findByTestId('key-error')).toHaveTextContent('Kie did not accept this key');
    expect(input.value).toBe('bad-key-1234');
    await user.clear(input);
    await user.type(input, 'kie-good-key-9876');
    await user.click(screen.getByTestId('key-save'));
    await screen.findByTestId('model-form');
    expect(screen.queryByTestId('demo-badge')).toBeNull();
    await user.click(screen.getByTestId('nav-settings'));
    expect(await screen.findByTestId('key-last4')).toHaveTextContent('9876');
    expect(document.body.textContent).not.toContain('kie-good-key-9876');
  });

  it('starts the demo with a balance and the badge', async () => {
    await startDemo();
    expect(screen.getByTestId('demo-badge')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('balance')).toHaveTextContent('10,000 credits'));
    expect(screen.getByTestId('queue')).toBeInTheDocument();
  });

  it('renders the form of every model from the catalogue', async () => {
    const user = await startDemo();
    expect(CATALOGUE).toHaveLength(7);
    for (const model of CATALOGUE) {
      await chooseModel(user, model.id);
      const form = screen.getByTestId('model-form');
      expect(form).toHaveTextContent(model.name);
      if (model.fields.some((f) => f.advanced)) await user.click(within(form).getByTestId('more-options'));
      for (const f of model.fields) {
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
    const user = await startDemo();
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'A red fox trots through fresh snow');
    await user.click(screen.getByTestId('input-n_frames-15'));
    await waitFor(() => expect(screen.getByTestId('cost-estimate')).toHaveTextContent('45 credits'));
    await user.click(screen.getByTestId('submit'));
    const task = await screen.findByTestId('task-1');
    expect(within(task).getByText('A red fox trots through fresh snow')).toBeInTheDocument();
    await waitFor(() => expect(task).toHaveAttribute('data-status', 'succeeded'), { timeout: 5000 });
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-downloaded', 'true'), { timeout: 5000 });
    expect(screen.getByTestId('task-1-state')).toHaveTextContent('Ready');
    // The form keeps its values, for variations.
    expect(screen.getByTestId('input-prompt')).toHaveValue('A red fox trots through fresh snow');
    expect(screen.getByTestId('input-n_frames-15')).toHaveAttribute('aria-checked', 'true');
    // The balance follows.
    await waitFor(() => expect(screen.getByTestId('balance')).toHaveTextContent('9,955 credits'));
    // And the gallery has it.
    await user.click(screen.getByTestId('nav-gallery'));
    await screen.findByTestId('result-1');
  });

  it('submits with Ctrl+Enter', async () => {
    const user = await startDemo();
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
    const user = await startDemo();
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'Something [[fail]');
    await user.click(screen.getByTestId('submit'));
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-status', 'failed'), { timeout: 5000 });
    const msg = screen.getByTestId('task-1-message');
    expect(msg).toHaveTextContent('Kie could not make this one.');
    expect(msg).toHaveTextContent('flagged');
  });

  it('uploads images and shows their thumbnails', async () => {
    const user = await startDemo();
    await chooseModel(user, 'sora-2-image-to-video');
    await user.click(screen.getByTestId('pick-images'));
    await screen.findByTestId('thumb-1');
    expect(screen.getByTestId('thumb-0')).toBeInTheDocument();
    expect((screen.getByTestId('input-image_urls-0') as HTMLInputElement).value).toMatch(/^https:\/\/.*beach\.jpg$/);
    await user.click(screen.getByTestId('add-url'));
    expect(screen.getByTestId('input-image_urls-2')).toHaveValue('');
    await user.click(screen.getByTestId('remove-url-0'));
    expect((screen.getByTestId('input-image_urls-0') as HTMLInputElement).value).toMatch(/portrait\.png$/);
  });

  it('edits a storyboard: add, move, remove shots, with the time left', async () => {
    const user = await startDemo();
    await chooseModel(user, 'sora-2-pro-storyboard');
    expect(screen.getByTestId('shot-0-duration')).toHaveValue('10');
    expect(screen.getByTestId('time-left')).toHaveTextContent('All 10 s used');
    await user.clear(screen.getByTestId('shot-0-duration'));
    await user.type(screen.getByTestId('shot-0-duration'), '6');
    expect(screen.getByTestId('time-left')).toHaveTextContent('4 s left of 10 s');
    await user.click(screen.getByTestId('add-shot'));
    expect(screen.getByTestId('shot-1-duration')).toHaveValue('4');
    await user.type(screen.getByTestId('shot-0-scene'), 'First');
    await user.type(screen.getByTestId('shot-1-scene'), 'Second');
    await user.click(screen.getByTestId('move-shot-up-1'));
    expect(screen.getByTestId('shot-0-scene')).toHaveValue('Second');
    expect(screen.getByTestId('shot-1-scene')).toHaveValue('First');
    await user.click(screen.getByTestId('input-n_frames-15'));
    expect(screen.getByTestId('time-left')).toHaveTextContent('5 s left of 15 s');
    await user.click(screen.getByTestId('remove-shot-0'));
    expect(screen.getByTestId('shot-0-scene')).toHaveValue('First');
    expect(screen.queryByTestId('shot-1-scene')).toBeNull();
    // A shot without a scene: its problem shows under it after a submit.
    await user.click(screen.getByTestId('add-shot'));
    await user.click(screen.getByTestId('submit'));
    expect(await screen.findByTestId('error-shots[1].Scene')).toBeInTheDocument();
  });

  it('completes @handles in prompts', async () => {
    const user = await startDemo();
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
    const user = await startDemo({ seed: true });
    await chooseModel(user, 'sora-2-characters-pro');
    const picker = await screen.findByTestId('origin-video-picker');
    const video = await within(picker).findByTestId('origin-video-6');
    await user.click(video);
    await waitFor(() => expect((screen.getByTestId('input-origin_task_id') as HTMLInputElement).value).toMatch(/^[0-9a-f]{32}$/));
  });

  it('handles an unknown outcome honestly: explain, attach an id, or resubmit on purpose', async () => {
    const user = await startDemo();
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'A heron [[unknown]');
    await user.click(screen.getByTestId('submit'));
    const task = await screen.findByTestId('task-1');
    await waitFor(() => expect(task).toHaveAttribute('data-status', 'outcome_unknown'));
    expect(screen.getByTestId('task-1-message')).toHaveTextContent("won't pay twice");
    expect(screen.getByTestId('form-error')).toHaveTextContent("We don't know whether Kie received this task.");

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
    const user = await startDemo({ step: 400 });
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
    const user = await startDemo();
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'A castle [[credits]');
    await user.click(screen.getByTestId('submit'));
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-status', 'failed'));
    expect(screen.getByTestId('task-1-message')).toHaveTextContent('Not enough credits. Top up at kie.ai, then try again.');
    expect(screen.getByTestId('form-error')).toHaveTextContent('Not enough credits.');
  });

  it('checks a stale task again', async () => {
    const user = await startDemo();
    await chooseModel(user, 'sora-2-text-to-video');
    await user.type(screen.getByTestId('input-prompt'), 'A glacier [[stale]');
    await user.click(screen.getByTestId('submit'));
    await waitFor(() => expect(screen.getByTestId('task-1-state')).toHaveTextContent('Stale'));
    expect(screen.getByTestId('task-1-message')).toHaveTextContent("Kie hasn't finished in a long time");
    await user.click(screen.getByTestId('task-1-check-again'));
    await waitFor(() => expect(screen.getByTestId('task-1')).toHaveAttribute('data-downloaded', 'true'), { timeout: 5000 });
  });

  it('lists characters and removes the key from the settings', async () => {
    backend = createFastFake({ seed: true, keySet: true });
    const user = userEvent.setup();
    render(App, { props: { backend } });
    await screen.findByTestId('model-form');
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
