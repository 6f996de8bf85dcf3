import { describe, expect, it } from 'vitest';
import type { Budget } from '../src/lib/bindings/Budget';
import { describeBudget } from '../src/lib/logic/storyboard';
import { ModelForm } from '../src/lib/state/modelForm.svelte';
import { spec } from './catalogue';

/** A budget as `check_input` reports it. */
const budget = (limit: number, used: number, unit = 's'): Budget => ({ list: 'shots', item_key: 'duration', limit, used, left: Math.round((limit - used) * 1000) / 1000, unit });

describe('storyboard time left', () => {
  const s = spec('sora-2-pro-storyboard');

  it('says what is left, full or too long, in plain words', () => {
    expect(describeBudget(budget(15, 6.5))).toBe('8.5 s left of 15 s');
    expect(describeBudget(budget(10, 10))).toBe('All 10 s used');
    expect(describeBudget(budget(10, 13.5))).toBe('3.5 s too long for 10 s');
    expect(describeBudget(budget(3, 1, ''))).toBe('2 left of 3');
  });

  it('starts the only shot as long as the video once the check reports the length', () => {
    const f = new ModelForm(s);
    expect(f.values.shots).toEqual([{ Scene: '', duration: '' }]);
    f.budgetsNow([budget(10, 0)]);
    expect(f.budget('shots')).toEqual(budget(10, 0));
    expect(f.values.shots).toEqual([{ Scene: '', duration: '10' }]);
  });

  it('leaves a shot alone once the user has touched it, and more than one shot', () => {
    const f = new ModelForm(s);
    f.changed('shots[0].duration');
    f.budgetsNow([budget(10, 0)]);
    expect(f.values.shots).toEqual([{ Scene: '', duration: '' }]);

    const g = new ModelForm(s);
    g.values.shots = [
      { Scene: 'a', duration: '' },
      { Scene: 'b', duration: '' },
    ];
    g.budgetsNow([budget(10, 0)]);
    expect(g.values.shots).toEqual([
      { Scene: 'a', duration: '' },
      { Scene: 'b', duration: '' },
    ]);
    expect(g.budget('image_urls')).toBeNull();
  });
});
