import { describe, expect, it } from 'vitest';
import { initialForm } from '../src/lib/logic/form';
import { budgetRule, describeBudget, readNumber, timeBudget } from '../src/lib/logic/storyboard';
import { spec } from './catalogue';

describe('storyboard time left', () => {
  const s = spec('sora-2-pro-storyboard');

  it('finds the rule that holds the shots to the length', () => {
    expect(budgetRule(s, 'shots')?.item_key).toBe('duration');
    expect(budgetRule(s, 'image_urls')).toBeUndefined();
    expect(timeBudget(spec('sora-2-text-to-video'), {}, 'prompt')).toBeNull();
  });

  it('is the length minus the shots', () => {
    const v = initialForm(s);
    v.n_frames = '15';
    v.shots = [
      { Scene: 'a', duration: '4' },
      { Scene: 'b', duration: '2.5' },
      { Scene: 'c', duration: '' },
    ];
    expect(timeBudget(s, v, 'shots')).toEqual({ limit: 15, used: 6.5, left: 8.5, unit: 's' });
    expect(describeBudget(timeBudget(s, v, 'shots')!)).toBe('8.5 s left of 15 s');
  });

  it('says when the shots fill or overflow the video', () => {
    const v = initialForm(s);
    expect(describeBudget(timeBudget(s, v, 'shots')!)).toBe('All 10 s used');
    v.shots = [
      { Scene: 'a', duration: '8' },
      { Scene: 'b', duration: '5.5' },
    ];
    const b = timeBudget(s, v, 'shots')!;
    expect(b.left).toBe(-3.5);
    expect(describeBudget(b)).toBe('3.5 s too long for 10 s');
  });

  it('uses the default length when none is chosen, and ignores what is no number', () => {
    const v = initialForm(s);
    v.n_frames = null;
    v.shots = [{ Scene: 'a', duration: 'x' }];
    expect(timeBudget(s, v, 'shots')).toEqual({ limit: 10, used: 0, left: 10, unit: 's' });
  });

  it('reads numbers as typed', () => {
    expect(readNumber('2.5')).toBe(2.5);
    expect(readNumber('2,5')).toBe(2.5);
    expect(readNumber('3 s')).toBe(3);
    expect(readNumber('')).toBeNull();
    expect(readNumber('abc')).toBeNull();
    expect(readNumber(4)).toBe(4);
  });
});
