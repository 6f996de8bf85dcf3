// Presets in the create form, against the real core (the browser server): save the form's
// values under a name (Enter saves, Escape cancels, the core's message under the field with
// the typed name kept), start from one of this model or of another (which switches the model),
// delete one. Every control is named and reachable by keyboard.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { serverPerTest } from './server';

type User = ReturnType<typeof userEvent.setup>;

const core = serverPerTest({ demo: true });

async function open(model: string): Promise<User> {
  const user = userEvent.setup();
  render(App, { props: { api: core.api, initial: { screen: 'create', model } } });
  await screen.findByTestId('model-form');
  await screen.findByTestId('presets');
  return user;
}

const T2V = 'sora-2-text-to-video';
const I2V = 'sora-2-image-to-video';

describe('presets', () => {
  it('saves the form under a name: Enter saves, a bad name is explained and kept, Escape cancels', async () => {
    const user = await open(T2V);
    await user.type(screen.getByTestId('input-prompt'), 'A fox in the snow');

    await user.click(screen.getByTestId('preset-save'));
    const name = screen.getByTestId('preset-name');
    expect(name).toHaveFocus();
    expect(name).toHaveAccessibleName('Preset name');
    const long = 'n'.repeat(61);
    await user.type(name, `${long}{Enter}`);
    const error = await screen.findByTestId('error-preset-name');
    expect(error.textContent).toContain('60');
    expect(name).toHaveValue(long);
    expect(name).toHaveAttribute('aria-invalid', 'true');
    expect(name).toHaveAccessibleDescription(expect.stringContaining('60'));
    expect(await core.api.listPresets()).toEqual([]);

    await user.clear(name);
    await user.type(name, '  Snowy  {Enter}');
    await waitFor(() => expect(screen.queryByTestId('preset-name')).toBeNull());
    expect(screen.getByTestId('preset-note')).toHaveTextContent('Saved as “Snowy”.');
    expect(screen.getByTestId('preset-save')).toHaveFocus();
    const saved = await core.api.listPresets();
    expect(saved.map((p) => [p.name, p.model, p.input.prompt])).toEqual([['Snowy', T2V, 'A fox in the snow']]);

    // Escape leaves without saving, the button focused again.
    await user.click(screen.getByTestId('preset-save'));
    await user.type(screen.getByTestId('preset-name'), 'Other{Escape}');
    expect(screen.queryByTestId('preset-name')).toBeNull();
    expect(screen.getByTestId('preset-save')).toHaveFocus();
    expect((await core.api.listPresets()).length).toBe(1);

    // The same name in another case replaces it.
    await user.clear(screen.getByTestId('input-prompt'));
    await user.type(screen.getByTestId('input-prompt'), 'A fox in the rain');
    await user.click(screen.getByTestId('preset-save'));
    await user.type(screen.getByTestId('preset-name'), 'SNOWY{Enter}');
    await waitFor(() => expect(screen.getByTestId('preset-note')).toHaveTextContent('Updated “SNOWY”.'));
    const replaced = await core.api.listPresets();
    expect(replaced.map((p) => [p.id, p.input.prompt])).toEqual([[saved[0].id, 'A fox in the rain']]);
  });

  it('starts the form from a preset of this model, and switches model for another', async () => {
    const mine = await core.api.savePreset({ name: 'Rainy fox', model: T2V, input: { prompt: 'A fox in the rain', aspect_ratio: 'portrait' } });
    const other = await core.api.savePreset({ name: 'Wave', model: I2V, input: { prompt: 'Wave hello' } });
    const user = await open(T2V);
    const prompt = screen.getByTestId('input-prompt');
    await user.type(prompt, 'Something else');

    const toggle = screen.getByTestId('preset-toggle');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await waitFor(() => expect(toggle).toHaveTextContent('Presets (2)'));
    // By keyboard: the toggle opens the list.
    toggle.focus();
    await user.keyboard('{Enter}');
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const list = screen.getByTestId('preset-list');
    const groups = within(list).getAllByRole('list');
    expect(within(groups[0]).getByTestId(`preset-${mine.id}`)).toHaveAccessibleName('Start from “Rainy fox”');
    expect(within(groups[1]).getByTestId(`preset-${other.id}`)).toHaveAccessibleName(expect.stringMatching(/^Start from “Wave” \(.+\)$/));
    for (const b of within(screen.getByTestId('presets')).getAllByRole('button')) expect(b).toHaveAccessibleName();
    // Escape closes it.
    within(list).getByTestId(`preset-${mine.id}`).focus();
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('preset-list')).toBeNull();
    expect(toggle).toHaveFocus();

    await user.click(toggle);
    await user.click(screen.getByTestId(`preset-${mine.id}`));
    expect(screen.getByTestId('input-prompt')).toHaveValue('A fox in the rain');
    expect(screen.getByTestId('preset-note')).toHaveTextContent('Started from “Rainy fox”.');
    expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', T2V);

    await user.click(screen.getByTestId('preset-toggle'));
    await user.click(screen.getByTestId(`preset-${other.id}`));
    await waitFor(() => expect(screen.getByTestId('model-form')).toHaveAttribute('data-model', I2V));
    expect(screen.getByTestId('input-prompt')).toHaveValue('Wave hello');
    await waitFor(() => expect(screen.getByTestId('preset-toggle')).toHaveFocus());
    expect(screen.getByTestId('preset-note')).toHaveTextContent('Started from “Wave”.');
  });

  it('deletes a preset after asking', async () => {
    const p = await core.api.savePreset({ name: 'Gone soon', model: T2V, input: { prompt: 'x' } });
    const user = await open(T2V);
    await user.click(screen.getByTestId('preset-toggle'));
    const del = await screen.findByTestId(`preset-delete-${p.id}`);
    expect(del).toHaveAccessibleName('Delete the preset “Gone soon”');
    await user.click(del);
    await user.click(await screen.findByTestId('confirm-no'));
    expect(await core.api.listPresets()).toHaveLength(1);
    await user.click(screen.getByTestId(`preset-delete-${p.id}`));
    await user.click(await screen.findByTestId('confirm-yes'));
    await waitFor(() => expect(screen.queryByTestId(`preset-${p.id}`)).toBeNull());
    expect(screen.getByTestId('preset-note')).toHaveTextContent('Deleted “Gone soon”.');
    expect(await core.api.listPresets()).toEqual([]);
    expect(screen.getByTestId('preset-list')).toHaveTextContent('No presets yet');
  });
});
