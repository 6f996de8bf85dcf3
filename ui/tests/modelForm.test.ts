import { describe, expect, it } from 'vitest';
import { ModelForm } from '../src/lib/state/modelForm.svelte';
import { spec } from './catalogue';

const problem = (field: string) => ({ field, rule: 'required', message: `${field} is wrong.` });

describe('a model form', () => {
  it('starts from the catalogue defaults with nothing shown', () => {
    const f = new ModelForm(spec('sora-2-image-to-video'));
    expect(f.values.image_urls).toEqual(['']);
    f.checkedNow([problem('prompt'), problem('image_urls')]);
    expect(f.visible).toEqual([]);
  });

  it('hides a changed field’s old problems until the check answers', () => {
    const f = new ModelForm(spec('sora-2-text-to-video'));
    f.checkedNow([problem('prompt')]);
    f.changed('prompt');
    expect(f.visible).toEqual([]);
    f.checkedNow([problem('prompt')]);
    expect(f.at('prompt')).toHaveLength(1);
  });

  it('shows everything after a submit, and opens More options for a problem in there', () => {
    const f = new ModelForm(spec('sora-2-text-to-video'));
    f.revealAll([problem('prompt'), problem('upload_method'), problem('model')]);
    expect(f.visible).toHaveLength(3);
    expect(f.moreOpen).toBe(true);
    expect(f.unplaced.map((p) => p.field)).toEqual(['model']);
  });
});
