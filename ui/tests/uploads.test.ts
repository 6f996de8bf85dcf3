// Files from the computer for link fields: which fields offer a pick button and with what
// words comes from the catalogue (`limits.media`); the button asks the core's `pick_files` for
// the field's own path, and puts what comes back in the form with a preview; the core's
// refusals show as they are (they name the file and the limit).
import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { UploadedFile } from '../src/lib/bindings/UploadedFile';
import Field from '../src/lib/components/form/Field.svelte';
import { describeUpload, linkPlaceholder, mediaOf, pickErrorText, pickLabel, uploadPercent } from '../src/lib/logic/uploads';
import { studioContext } from '../src/lib/state/context';
import { ModelForm } from '../src/lib/state/modelForm.svelte';
import { Studio } from '../src/lib/state/studio.svelte';
import { spec } from './catalogue';
import { stubApi } from './stubApi';

function file(patch: Partial<UploadedFile> = {}): UploadedFile {
  return {
    url: 'https://up.example/kie-studio/images/abc.png',
    name: 'dog.png',
    local_path: 'uploads/abc.png',
    size: 2048,
    kind: 'image',
    format: 'png',
    seconds: null,
    note: null,
    ...patch,
  };
}

function field(model: string, name: string) {
  const f = spec(model).fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name}`);
  return f;
}

/** One field of `model`'s form, with the core stubbed. */
function show(model: string, name: string, answers: Record<string, unknown> = {}) {
  const { api, transport } = stubApi(answers);
  const studio = new Studio(api);
  const form = new ModelForm(spec(model));
  render(Field, {
    props: { field: field(model, name), form, container: form.values, path: name },
    context: studioContext(studio),
  });
  return { form, transport };
}

afterEach(() => cleanup());

describe('which links take files, from the catalogue', () => {
  it('reads the kind from the link or from a list’s links', () => {
    expect(mediaOf(field('hailuo/2-3-image-to-video-pro', 'image_url'))).toBe('image');
    expect(mediaOf(field('bytedance/seedance-2', 'reference_video_urls'))).toBe('video');
    expect(mediaOf(field('bytedance/seedance-2', 'reference_audio_urls'))).toBe('audio');
    expect(mediaOf(field('sora-watermark-remover', 'video_url'))).toBeNull();
    expect(mediaOf(field('bytedance/seedance-2', 'prompt'))).toBeNull();
    const elements = field('kling-3.0/video', 'kling_elements');
    const inner = elements.items!.fields!.find((f) => f.name === 'element_input_urls')!;
    expect(mediaOf(elements)).toBeNull();
    expect(mediaOf(inner)).toBe('image');
  });

  it('words the button by the kind', () => {
    expect(pickLabel('image', true)).toBe('Add images…');
    expect(pickLabel('image', false)).toBe('Add an image…');
    expect(pickLabel('video', false)).toBe('Add a clip…');
    expect(pickLabel('video', true)).toBe('Add clips…');
    expect(pickLabel('audio', true)).toBe('Add audio…');
    expect(linkPlaceholder('video')).toMatch(/\.mp4$/);
    expect(describeUpload(file({ kind: 'video', format: 'mp4', seconds: 3.04, size: 4096 }))).toBe('4 KB · 3 s · MP4');
  });

  it('counts an upload in whole percent', () => {
    expect(uploadPercent(null)).toBe(0);
    expect(uploadPercent({ done: 5, total: 0 })).toBe(0);
    expect(uploadPercent({ done: 1, total: 3 })).toBe(33);
    expect(uploadPercent({ done: 4, total: 4 })).toBe(100);
  });

  it('shows the core’s problems as they are', () => {
    const refused = {
      code: 'invalid_input',
      message: 'x',
      problems: [{ field: 'character_file_url', rule: 'too_long', message: 'clip.mp4 is 6.2 s; Character clip must be 1 to 4 s.' }],
    };
    expect(pickErrorText(refused)).toBe('clip.mp4 is 6.2 s; Character clip must be 1 to 4 s.');
    expect(pickErrorText({ code: 'unauthorized', message: '', problems: [] })).toMatch(/key/);
  });
});

describe('a single link that takes a file', () => {
  it('picks one, puts its link in the field and shows it', async () => {
    const user = userEvent.setup();
    const { form, transport } = show('hailuo/2-3-image-to-video-pro', 'image_url', { pick_files: [file()] });
    const button = screen.getByTestId('pick-image_url');
    expect(button).toHaveTextContent('Add an image…');
    await user.click(button);
    await waitFor(() => expect(screen.getByTestId('input-image_url')).toHaveValue(file().url));
    expect(transport.calls[0]).toEqual({
      command: 'pick_files',
      args: { model: 'hailuo/2-3-image-to-video-pro', field: 'image_url', onProgress: 'channel-1' },
    });
    expect(form.values.image_url).toBe(file().url);
    expect(screen.getByTestId('thumb-image_url').tagName).toBe('IMG');
    expect(screen.getByText(/dog\.png/)).toBeInTheDocument();
  });

  it('a pasted link needs no button press, and a link without media has no button', () => {
    show('sora-watermark-remover', 'video_url');
    expect(screen.queryByTestId('pick-video_url')).toBeNull();
    expect(screen.getByTestId('input-video_url')).toBeInTheDocument();
  });

  it('says why a file was refused', async () => {
    const user = userEvent.setup();
    const refused = {
      code: 'invalid_input',
      message: 'Some settings need fixing.',
      problems: [{ field: 'image_url', rule: 'unsupported_type', message: 'song.mp3 is an MP3 audio file; for Start picture, use a JPEG, PNG or WebP image.' }],
    };
    show('hailuo/2-3-image-to-video-pro', 'image_url', {
      pick_files: () => {
        throw refused;
      },
    });
    await user.click(screen.getByTestId('pick-image_url'));
    await waitFor(() => expect(screen.getByTestId('pick-note-image_url')).toHaveTextContent('song.mp3 is an MP3 audio file'));
    expect(screen.getByTestId('input-image_url')).toHaveValue('');
  });
});

describe('a list of links that take files', () => {
  it('adds clips with their length and format, and any note', async () => {
    const user = userEvent.setup();
    const clip = file({
      url: 'https://up.example/kie-studio/videos/c1.mp4',
      name: 'routine.mp4',
      local_path: 'uploads/c1.mp4',
      kind: 'video',
      format: 'mp4',
      seconds: 3,
    });
    const live = file({
      url: 'https://up.example/kie-studio/videos/c2.mov',
      name: 'live.mov',
      kind: 'video',
      format: 'mov',
      seconds: null,
      note: 'The length of live.mov could not be read, so it was not checked here; Kie will check it.',
    });
    const { form, transport } = show('bytedance/seedance-2', 'reference_video_urls', { pick_files: [clip, live] });
    const button = screen.getByTestId('pick-reference_video_urls');
    expect(button).toHaveTextContent('Add clips…');
    await user.click(button);
    await waitFor(() => expect(form.values.reference_video_urls).toEqual([clip.url, live.url]));
    expect(transport.calls[0].args.field).toBe('reference_video_urls');
    expect(screen.getByTestId('thumb-0')).toHaveAttribute('data-kind', 'video');
    expect(screen.getByTestId('thumb-0')).toHaveTextContent('MP4');
    expect(screen.getByText(/3 s · MP4/)).toBeInTheDocument();
    expect(screen.getByTestId('pick-note-reference_video_urls')).toHaveTextContent('could not be read');
  });

  it('a list of at most one with its empty row still takes a file, then says it is full', async () => {
    const user = userEvent.setup();
    const { form } = show('sora-2-image-to-video', 'image_urls', { pick_files: [file()] });
    // The form starts the required list with one empty row: that row is room for the file.
    expect(form.values.image_urls).toEqual(['']);
    const button = screen.getByTestId('pick-image_urls');
    expect(button).toBeEnabled();
    expect(screen.queryByText(/That's the most/)).toBeNull();
    await user.click(button);
    await waitFor(() => expect(form.values.image_urls).toEqual([file().url]));
    expect(screen.getByTestId('thumb-0')).toBeInTheDocument();
    expect(screen.getByTestId('pick-image_urls')).toBeDisabled();
    expect(screen.getByText(/That's the most: 1/)).toBeInTheDocument();
  });

  it('asks with the nested path of a list inside a group', async () => {
    const user = userEvent.setup();
    const { transport } = show('kling-3.0/video', 'kling_elements', { pick_files: [file()] });
    await user.click(screen.getByTestId('add-kling_elements'));
    const pick = await screen.findByTestId('pick-kling_elements[0].element_input_urls');
    expect(pick).toHaveTextContent('Add images…');
    await user.click(pick);
    await waitFor(() => expect(transport.calls.some((c) => c.command === 'pick_files')).toBe(true));
    const call = transport.calls.find((c) => c.command === 'pick_files')!;
    expect(call.args).toMatchObject({ model: 'kling-3.0/video', field: 'kling_elements[0].element_input_urls' });
  });
});
