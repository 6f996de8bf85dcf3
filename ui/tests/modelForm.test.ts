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

describe('fields the core hides', () => {
  it('waits with fields shown on a condition until the core answers, then follows it', () => {
    const f = new ModelForm(spec('kling-3.0/video'));
    const names = () => f.shownFields.map((x) => x.name);
    // Before the first check: `show_when` fields wait hidden; the rest show.
    expect(names()).toContain('prompt');
    expect(names()).not.toContain('multi_prompt');
    f.hidden = ['prompt'];
    expect(names()).toContain('multi_prompt');
    expect(names()).not.toContain('prompt');
    // Hidden, its value stays for when it shows again.
    f.values.prompt = 'kept';
    f.hidden = ['multi_prompt'];
    expect(f.values.prompt).toBe('kept');
    expect(names()).toContain('prompt');
  });

  it('does not count a problem at a hidden field as shown by a control', () => {
    const f = new ModelForm(spec('kling-3.0/video'));
    f.hidden = ['multi_prompt'];
    f.revealAll([problem('multi_prompt')]);
    expect(f.unplaced.map((p) => p.field)).toEqual(['multi_prompt']);
    f.hidden = [];
    expect(f.unplaced).toEqual([]);
  });
});

describe('@ names from the form', () => {
  it('gives a top-level text the core’s names, and a shot’s prompt those of the field naming the same things', () => {
    const s = spec('kling-3.0/video');
    const f = new ModelForm(s);
    f.mentions = [
      { field: 'prompt', name: 'fox_mascot', label: 'Element' },
      { field: 'other', name: 'x', label: 'X' },
    ];
    expect(f.offersFor('prompt').map((o) => o.name)).toEqual(['fox_mascot']);
    const shotPrompt = s.fields.find((x) => x.name === 'multi_prompt')!.items!.fields!.find((x) => x.name === 'prompt')!;
    expect(f.offersFor('multi_prompt[0].prompt', shotPrompt).map((o) => o.name)).toEqual(['fox_mascot']);
    // A text that names nothing from the form gets nothing.
    const plain = spec('sora-2-text-to-video').fields.find((x) => x.name === 'prompt')!;
    expect(f.offersFor('multi_prompt[0].prompt', plain)).toEqual([]);
  });
});
