import { describe, expect, it } from 'vitest';
import type { Problem } from '../src/lib/bindings/Problem';
import { initialForm } from '../src/lib/logic/form';
import {
  childPath,
  isWithin,
  joinPath,
  parsePath,
  problemsAt,
  renderedPaths,
  topField,
  unplacedProblems,
  visibleProblems,
} from '../src/lib/logic/problems';
import { spec } from './catalogue';

const p = (field: string, rule = 'required'): Problem => ({ field, rule, message: `${field} ${rule}` });

describe('problem paths', () => {
  it('parses and joins paths', () => {
    expect(parsePath('prompt')).toEqual(['prompt']);
    expect(parsePath('image_urls[1]')).toEqual(['image_urls', 1]);
    expect(parsePath('shots[2].duration')).toEqual(['shots', 2, 'duration']);
    expect(joinPath(['shots', 2, 'duration'])).toBe('shots[2].duration');
    expect(childPath('', 'prompt')).toBe('prompt');
    expect(childPath('shots', 0)).toBe('shots[0]');
    expect(childPath('shots[0]', 'Scene')).toBe('shots[0].Scene');
  });

  it('maps a path to its top-level field', () => {
    expect(topField('shots[2].duration')).toBe('shots');
    expect(topField('image_urls[0]')).toBe('image_urls');
    expect(topField('prompt')).toBe('prompt');
  });

  it('knows what is inside what', () => {
    expect(isWithin('shots[2].duration', 'shots')).toBe(true);
    expect(isWithin('shots[2].duration', 'shots[2]')).toBe(true);
    expect(isWithin('shots', 'shots')).toBe(true);
    expect(isWithin('shotsX', 'shots')).toBe(false);
    expect(isWithin('image_urls[1]', 'image_urls[10]')).toBe(false);
  });

  it('finds the problems of exactly one control', () => {
    const all = [p('image_urls[0]'), p('image_urls[1]'), p('image_urls')];
    expect(problemsAt(all, 'image_urls[1]')).toEqual([all[1]]);
  });

  it('lists every path the storyboard form shows', () => {
    const s = spec('sora-2-pro-storyboard');
    const v = initialForm(s);
    v.shots = [
      { Scene: '', duration: '' },
      { Scene: '', duration: '' },
    ];
    v.image_urls = ['x'];
    const paths = renderedPaths(s, v);
    for (const path of ['shots', 'shots[0]', 'shots[0].Scene', 'shots[1].duration', 'image_urls', 'image_urls[0]', 'n_frames', 'upload_method']) {
      expect(paths.has(path), path).toBe(true);
    }
    expect(paths.has('shots[2]')).toBe(false);
  });

  it('sends problems no control shows to the form', () => {
    const s = spec('sora-2-image-to-video');
    const v = initialForm(s);
    const problems = [p('prompt'), p('image_urls[0]'), p('image_urls[3]'), p('model', 'unknown_model'), p('Prompt', 'duplicate_field')];
    expect(unplacedProblems(problems, renderedPaths(s, v)).map((x) => x.field)).toEqual(['image_urls[3]', 'model', 'Prompt']);
  });

  it('shows a problem once its control (or list) was touched, all after a submit', () => {
    const problems = [p('prompt'), p('image_urls[1]'), p('shots[0].duration'), p('shots', 'sum_too_large')];
    expect(visibleProblems(problems, new Set(), false).map((x) => x.field)).toEqual(['shots']);
    expect(visibleProblems(problems, new Set(['prompt']), false).map((x) => x.field)).toEqual(['prompt', 'shots']);
    expect(visibleProblems(problems, new Set(['image_urls[0]']), false).map((x) => x.field)).toEqual(['shots']);
    expect(visibleProblems(problems, new Set(['image_urls']), false).map((x) => x.field)).toContain('image_urls[1]');
    expect(visibleProblems(problems, new Set(['shots[0]']), false).map((x) => x.field)).toContain('shots[0].duration');
    expect(visibleProblems(problems, new Set(), true)).toEqual(problems);
  });
});
