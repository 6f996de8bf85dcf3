// The fake backend stands in for the shell in the browser and in tests: it must judge input
// the way the Rust core does (same paths, rules and prices).
import { describe, expect, it } from 'vitest';
import { estimateCredits, validate } from '../src/lib/backend/fake-validate';
import { createFastFake } from '../src/lib/backend/fake';
import { spec } from './catalogue';

describe('fake validation, as crates/kie/src/validate.rs', () => {
  it('reports every problem with its path and rule', () => {
    const { problems } = validate(spec('sora-2-image-to-video'), {
      image_urls: ['ftp://x/a.jpg', '', 'https://x.example/a.gif'],
      n_frames: '12',
    });
    expect(problems.map((p) => [p.field, p.rule])).toEqual([
      ['prompt', 'required'],
      ['image_urls[0]', 'bad_url'],
      ['image_urls[1]', 'required'],
      ['image_urls[2]', 'bad_file_type'],
      ['n_frames', 'not_allowed'],
    ]);
    expect(problems[0].message).toBe('Prompt is required.');
    expect(problems[1].message).toBe('Image link 1 must be a full web link starting with https:// or http://; got "ftp://x/a.jpg".');
  });

  it('checks shots and their total', () => {
    const s = spec('sora-2-pro-storyboard');
    expect(validate(s, { shots: [{ Scene: 'a', duration: 0 }] }).problems.map((p) => [p.field, p.rule])).toEqual([
      ['shots[0].duration', 'out_of_range'],
    ]);
    const over = validate(s, { shots: [{ Scene: 'a', duration: 8 }, { Scene: 'b', duration: 4 }] }).problems;
    expect(over).toEqual([
      {
        field: 'shots',
        rule: 'sum_too_large',
        message: 'Shots last 12 s in total, but the video is 10 s long: shorten a shot or choose a longer length.',
      },
    ]);
  });

  it('checks hosts, characters and time slices', () => {
    expect(validate(spec('sora-watermark-remover'), { video_url: 'https://example.com/v' }).problems[0].rule).toBe('bad_host');
    const c = validate(spec('sora-2-characters-pro'), {
      origin_task_id: 'x',
      character_prompt: 'y',
      character_user_name: 'bad name',
      timestamps: '2,9',
    }).problems;
    expect(c.map((p) => [p.field, p.rule])).toEqual([
      ['character_user_name', 'bad_format'],
      ['timestamps', 'out_of_range'],
    ]);
  });

  it('prices by the first matching rule, with defaults', () => {
    expect(estimateCredits(spec('sora-2-text-to-video'), {})).toBe(30);
    expect(estimateCredits(spec('sora-2-text-to-video'), { n_frames: '15' })).toBe(45);
    expect(estimateCredits(spec('sora-2-pro-text-to-video'), { size: 'high', n_frames: '15' })).toBe(630);
    expect(estimateCredits(spec('sora-watermark-remover'), {})).toBe(10);
  });
});

describe('fake backend', () => {
  it('needs a key or the demo before it makes anything', async () => {
    const b = createFastFake();
    expect((await b.getAppInfo()).ready).toBe(false);
    await expect(b.getBalance()).rejects.toMatchObject({ code: 'not_ready' });
    await expect(b.setKey('bad')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(await b.setKey('kie-0123456789abcd')).toMatchObject({ last4: 'abcd' });
    const info = await b.getAppInfo();
    expect(info).toMatchObject({ ready: true, demo: false, key: { set: true, last4: 'abcd', source: 'keyring' } });
  });

  it('takes a task from sending to ready, with events and progress', async () => {
    const b = createFastFake({ demo: true });
    const statuses: string[] = [];
    const progress: string[] = [];
    b.onTaskChanged((t) => statuses.push(t.status));
    b.watchProgress((e) => progress.push(e.type));
    const results: number[] = [];
    b.onResultAdded((r) => results.push(r.task_id));
    const t = await b.submitTask('sora-2-text-to-video', { prompt: 'a fox' });
    expect(t.status).toBe('running');
    await new Promise((r) => setTimeout(r, 600));
    const done = await b.getTask(t.id);
    expect(done).toMatchObject({ status: 'succeeded', downloads_done: true, credits_consumed: 30 });
    expect(statuses[0]).toBe('submitting');
    expect(statuses).toContain('succeeded');
    expect(progress).toContain('task');
    expect(progress).toContain('download');
    expect(results).toEqual([t.id]);
    expect((await b.getBalance()).credits).toBe(9970);
    expect((await b.listResults({ kind: 'video' })).total).toBe(1);
  });

  it('rejects invalid input with its problems and sends nothing', async () => {
    const b = createFastFake({ demo: true });
    await expect(b.submitTask('sora-2-text-to-video', {})).rejects.toMatchObject({
      code: 'invalid_input',
      problems: [{ field: 'prompt', rule: 'required' }],
    });
    expect(await b.listTasks(50)).toEqual([]);
  });
});
