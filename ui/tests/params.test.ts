// A task's input in the form's words, for the detail panel.
import { describe, expect, it } from 'vitest';
import { describeInput } from '../src/lib/logic/params';
import { spec } from './catalogue';

describe('settings in plain words', () => {
  it('uses the catalogue labels and option names, in the form order, without the prompt', () => {
    const lines = describeInput(spec('sora-2-pro-text-to-video'), {
      prompt: 'A fox',
      n_frames: '10',
      aspect_ratio: 'landscape',
      size: 'high',
      remove_watermark: true,
      character_id_list: ['char_a', 'char_b'],
    });
    expect(lines.map((l) => `${l.label}: ${l.value}`)).toEqual([
      'Shape: Landscape',
      'Length: 10 s',
      'Quality: High (1080p)',
      'Remove watermark: Yes',
      'Characters: char_a\nchar_b',
    ]);
  });

  it('lists storyboard shots and keeps unknown keys', () => {
    const lines = describeInput(spec('sora-2-pro-storyboard'), {
      shots: [
        { Scene: 'A keeper climbs', duration: 5 },
        { Scene: 'The lamp turns on', duration: 5 },
      ],
      n_frames: '10',
      extra: 'kept',
    });
    expect(lines[0].label).toBe('Shots');
    expect(lines[0].value).toBe('1. A keeper climbs (5 s)\n2. The lamp turns on (5 s)');
    expect(lines.at(-1)).toEqual({ name: 'extra', label: 'extra', value: 'kept' });
  });

  it('shows a time slice as a range', () => {
    const lines = describeInput(spec('sora-2-characters-pro'), { origin_task_id: 'abc', timestamps: '2,5' });
    expect(lines.find((l) => l.name === 'timestamps')?.value).toMatch(/^2–5/);
  });
});
