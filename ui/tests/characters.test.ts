// Picking an @handle also puts the character's id in the model's character list.
import { describe, expect, it } from 'vitest';
import { addCharacterId } from '../src/lib/logic/characters';
import { initialForm, toInput } from '../src/lib/logic/form';
import { ModelForm } from '../src/lib/state/modelForm.svelte';
import { spec } from './catalogue';

describe('character ids with @handles', () => {
  const t2v = spec('sora-2-text-to-video');

  it('adds the id once, to a model that has a character list', () => {
    const values = initialForm(t2v);
    expect(addCharacterId(t2v, values, 'char_a')).toBe('added');
    expect(addCharacterId(t2v, values, 'char_a')).toBe('present');
    expect(addCharacterId(t2v, values, ' char_b ')).toBe('added');
    expect(values.character_id_list).toEqual(['char_a', 'char_b']);
    expect(toInput(t2v, values).character_id_list).toEqual(['char_a', 'char_b']);
  });

  it('fills a blank row before adding one', () => {
    const values = initialForm(t2v);
    values.character_id_list = ['char_a', '  '];
    expect(addCharacterId(t2v, values, 'char_b')).toBe('added');
    expect(values.character_id_list).toEqual(['char_a', 'char_b']);
  });

  it('respects the limit of 5', () => {
    const values = initialForm(t2v);
    expect(t2v.fields.find((f) => f.name === 'character_id_list')!.limits.max_items).toBe(5);
    for (const id of ['a', 'b', 'c', 'd', 'e']) expect(addCharacterId(t2v, values, id)).toBe('added');
    expect(addCharacterId(t2v, values, 'f')).toBe('full');
    expect(values.character_id_list).toEqual(['a', 'b', 'c', 'd', 'e']);
    // One already in the list is still "present", not "full".
    expect(addCharacterId(t2v, values, 'c')).toBe('present');
  });

  it('does nothing without a list or without an id', () => {
    const story = spec('sora-2-pro-storyboard');
    const values = initialForm(story);
    expect(addCharacterId(story, values, 'char_a')).toBe('no-field');
    expect(values.character_id_list).toBeUndefined();
    const v2 = initialForm(t2v);
    expect(addCharacterId(t2v, v2, null)).toBe('no-id');
    expect(addCharacterId(t2v, v2, '  ')).toBe('no-id');
    expect(v2.character_id_list).toEqual([]);
  });

  it('marks the list as changed in the form', () => {
    const form = new ModelForm(t2v);
    expect(form.mentioned({ handle: 'sky', character_id: 'char_sky' })).toBe('added');
    expect(form.values.character_id_list).toEqual(['char_sky']);
    expect(form.touched).toContain('character_id_list');
  });
});
