import { beforeEach, describe, expect, it } from 'vitest';
import { createStudioApi } from '../src/lib/api';
import { createHttpTransport } from '../src/lib/api/http';
import {
  carryValues,
  formFromInput,
  initialForm,
  initialValue,
  submitVerb,
  toInput,
  trimTrailingBlanks,
  useSegments,
} from '../src/lib/logic/form';
import { CATALOGUE, spec } from './catalogue';
import { resetServer, server } from './server';

describe('form state from the catalogue', () => {
  it('fills in every default of text-to-video', () => {
    const v = initialForm(spec('sora-2-text-to-video'));
    expect(v).toEqual({
      prompt: '',
      aspect_ratio: 'landscape',
      n_frames: '10',
      remove_watermark: true,
      upload_method: 's3',
      character_id_list: [],
    });
  });

  it('starts a required list with one empty row, an optional one with none', () => {
    expect(initialForm(spec('sora-2-image-to-video')).image_urls).toEqual(['']);
    expect(initialForm(spec('sora-2-pro-storyboard')).image_urls).toEqual([]);
  });

  it('starts the storyboard with one empty shot (its length comes with the first check)', () => {
    const s = spec('sora-2-pro-storyboard');
    const v = initialForm(s);
    expect(v.shots).toEqual([{ Scene: '', duration: '' }]);
    expect(v.n_frames).toBe(s.fields.find((f) => f.name === 'n_frames')!.default);
  });

  it('gives the character maker an empty time slice', () => {
    expect(initialForm(spec('sora-2-characters-pro')).timestamps).toEqual({ start: '', end: '' });
  });

  it('has a starting value for every field of every model', () => {
    for (const m of CATALOGUE) {
      const v = initialForm(m);
      for (const f of m.fields) expect(v, `${m.id}.${f.name}`).toHaveProperty(f.name);
    }
  });

  it('sends defaults as they are and leaves empty fields out', () => {
    const input = toInput(spec('sora-2-text-to-video'), initialForm(spec('sora-2-text-to-video')));
    expect(input).toEqual({ aspect_ratio: 'landscape', n_frames: '10', remove_watermark: true, upload_method: 's3' });
  });

  it('drops only trailing empty rows of a list, so problems keep their index', () => {
    expect(trimTrailingBlanks(['a', '', 'b', '', ' '])).toEqual(['a', '', 'b']);
    const s = spec('sora-2-image-to-video');
    const v = initialForm(s);
    v.prompt = 'hi';
    v.image_urls = ['', 'https://x.example/a.png', ''];
    expect(toInput(s, v).image_urls).toEqual(['', 'https://x.example/a.png']);
    v.image_urls = ['', ''];
    expect(toInput(s, v).image_urls).toBeUndefined();
  });

  it('turns shot durations into numbers, and leaves text that is no number for the backend to explain', () => {
    const s = spec('sora-2-pro-storyboard');
    const v = initialForm(s);
    v.shots = [
      { Scene: 'a', duration: '2.5' },
      { Scene: 'b', duration: 'soon' },
      { Scene: '', duration: '' },
    ];
    expect(toInput(s, v).shots).toEqual([{ Scene: 'a', duration: 2.5 }, { Scene: 'b', duration: 'soon' }, {}]);
  });

  it('writes a time slice as "start,end"', () => {
    const s = spec('sora-2-characters-pro');
    const v = initialForm(s);
    v.timestamps = { start: '2', end: '5' };
    expect(toInput(s, v).timestamps).toBe('2,5');
    v.timestamps = { start: '', end: '' };
    expect(toInput(s, v).timestamps).toBeUndefined();
  });

  it('fills a form back in from a task input ("Use again")', () => {
    const s = spec('sora-2-pro-storyboard');
    const v = formFromInput(s, { shots: [{ Scene: 'x', duration: 2.5 }], n_frames: '15', aspect_ratio: 'portrait' });
    expect(v.shots).toEqual([{ Scene: 'x', duration: '2.5' }]);
    expect(v.n_frames).toBe('15');
    expect(v.aspect_ratio).toBe('portrait');
    expect(v.upload_method).toBe('s3');
  });

  it('uses segmented buttons for a few short choices', () => {
    const s = spec('sora-2-pro-text-to-video');
    for (const name of ['aspect_ratio', 'n_frames', 'size', 'upload_method']) {
      expect(useSegments(s.fields.find((f) => f.name === name)!), name).toBe(true);
    }
    const many = { ...s.fields[1], options: Array.from({ length: 6 }, (_, i) => ({ value: i, label: `${i}` })) };
    expect(useSegments(many)).toBe(false);
  });

  it('names the submit button by what the model makes', () => {
    expect(submitVerb(spec('sora-2-text-to-video'))).toBe('Make video');
    expect(submitVerb(spec('sora-2-characters-pro'))).toBe('Make character');
  });

  it('keeps choices whose values are numbers as numbers (Veo’s length)', () => {
    const s = spec('veo3');
    const duration = s.fields.find((f) => f.name === 'duration')!;
    expect(duration.options!.every((o) => typeof o.value === 'number')).toBe(true);
    const v = initialForm(s);
    expect(v.duration).toBe(duration.default);
    v.duration = 4;
    expect(toInput(s, v).duration).toBe(4);
    expect(formFromInput(s, { duration: 6 }).duration).toBe(6);
  });

  it('keeps whole numbers with a unit as typed and sends them as numbers', () => {
    const s = spec('bytedance/seedance-2');
    const v = initialForm(s);
    expect(v.duration).toBe('5');
    v.duration = '12';
    expect(toInput(s, v).duration).toBe(12);
  });

  it('fills lists inside list items (Kling’s elements and their pictures)', () => {
    const s = spec('kling-3.0/video');
    expect(initialForm(s).kling_elements).toEqual([]);
    const v = formFromInput(s, {
      multi_shots: true,
      multi_prompt: [{ prompt: 'one', duration: 3 }],
      kling_elements: [{ name: 'fox', description: 'a fox', element_input_urls: ['https://x/a.png', 'https://x/b.png'] }],
    });
    expect(v.multi_prompt).toEqual([{ prompt: 'one', duration: '3' }]);
    expect(v.kling_elements).toEqual([{ name: 'fox', description: 'a fox', element_input_urls: ['https://x/a.png', 'https://x/b.png'] }]);
    expect(toInput(s, v).multi_prompt).toEqual([{ prompt: 'one', duration: 3 }]);
    expect(toInput(s, v).kling_elements).toEqual([
      { name: 'fox', description: 'a fox', element_input_urls: ['https://x/a.png', 'https://x/b.png'] },
    ]);
  });

  it('carries what the user gave to another model: same name and kind, choices only when offered there', () => {
    const from = spec('sora-2-image-to-video');
    const to = spec('kling-3.0/video');
    const values = initialForm(from);
    values.prompt = 'A red fox in the snow';
    values.image_urls = ['https://x.example/fox.png'];
    values.aspect_ratio = 'portrait';
    const target = initialForm(to);
    const carried = carryValues(from, values, to, target);
    expect(carried.sort()).toEqual(['image_urls', 'prompt']);
    expect(target.prompt).toBe('A red fox in the snow');
    expect(target.image_urls).toEqual(['https://x.example/fox.png']);
    // "portrait" is no choice of Kling's: its own default stays.
    expect(target.aspect_ratio).toBe(initialForm(to).aspect_ratio);
    // Untouched defaults do not travel; the source is left as it was.
    expect(carryValues(from, initialForm(from), to, initialForm(to))).toEqual([]);
    expect(values.prompt).toBe('A red fox in the snow');
  });

  it('starts a toggle without default off and a choice without default unset', () => {
    const f = spec('sora-2-text-to-video').fields.find((x) => x.name === 'remove_watermark')!;
    expect(initialValue({ ...f, default: null })).toBe(false);
    const c = spec('sora-2-text-to-video').fields.find((x) => x.name === 'n_frames')!;
    expect(initialValue({ ...c, default: null })).toBeNull();
  });
});

// `check_input` of the real core (the browser server), on the catalogue it serves.
describe('the core accepts every form once filled in', () => {
  beforeEach(async () => {
    await resetServer();
  });

  it('passes the backend check once filled in with its example, for every model', async () => {
    const { url, token } = server();
    const transport = createHttpTransport({ url, token });
    const api = createStudioApi(transport);
    try {
      await api.startDemo();
      const catalogue = await api.getCatalogue();
      expect(catalogue.map((m) => m.id).sort()).toEqual(CATALOGUE.map((m) => m.id).sort());
      // Every model's example, through the form and back: every field shape the catalogue uses
      // (single links, whole numbers with units, numeric choices, lists inside list items).
      for (const m of catalogue) {
        expect(m.example, `${m.id} has an example`).toBeTruthy();
        const v = formFromInput(m, m.example!);
        expect((await api.checkInput({ model: m.id, input: toInput(m, v) })).problems, m.id).toEqual([]);
      }
    } finally {
      transport.close();
    }
  });
});
