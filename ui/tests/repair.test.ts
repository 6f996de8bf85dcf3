// A damaged library database (`db_corrupt` in `AppInfo.library_problem`): the window says so
// and changes nothing until the user chooses to set it aside (`repair_library`).
import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import type { AppInfo } from '../src/lib/bindings/AppInfo';
import { RULES, stubApi } from './stubApi';

function info(problem: AppInfo['library_problem']): AppInfo {
  return {
    version: '1',
    ready: false,
    demo: false,
    library_path: '/home/me/kie-studio',
    log_dir: null,
    media_base: null,
    key: { set: true, source: 'keyring', last4: 'abcd' },
    hosts: null,
    library_problem: problem,
    rules: RULES,
  };
}

describe('a damaged library', () => {
  it('is left alone until the user chooses to set it aside', async () => {
    let repaired = false;
    const damaged = info({
      code: 'db_corrupt',
      message: 'The library database /home/me/kie-studio/library.db is damaged. It was left as it is.',
      problems: [],
    });
    const { api, transport } = stubApi({
      get_app_info: () => (repaired ? info(null) : damaged),
      repair_library: () => {
        repaired = true;
        return { set_aside: '/home/me/kie-studio/library.db.corrupt-7', tasks: 3, results: 2, characters: 1, other: 0 };
      },
    });
    const user = userEvent.setup();
    render(App, { props: { api } });
    const card = await screen.findByTestId('library-damaged');
    expect(card).toHaveTextContent('library.db is damaged');
    expect(screen.queryByTestId('welcome')).toBeNull();
    expect(transport.calls.some((c) => c.command === 'repair_library')).toBe(false);

    await user.click(screen.getByTestId('repair-library'));
    await waitFor(() => expect(screen.getByTestId('library-repaired')).toHaveTextContent('3 task(s)'));
    expect(screen.getByTestId('library-repaired')).toHaveTextContent('library.db.corrupt-7');
    expect(transport.calls.filter((c) => c.command === 'repair_library')).toHaveLength(1);
    expect(await screen.findByTestId('welcome')).toBeInTheDocument();
  });

  it('shows the damage found after the library opened, when the core says so', async () => {
    let found = false;
    const { api, transport } = stubApi({
      get_app_info: () =>
        found
          ? info({ code: 'db_corrupt', message: 'The library database /home/me/kie-studio/library.db is damaged.', problems: [] })
          : { ...info(null), ready: true },
      get_catalogue: [],
      list_models: [],
      list_tasks: [],
      list_queue: [],
      list_characters: [],
      list_results: { items: [], total: 0 },
    });
    render(App, { props: { api, initial: { screen: 'gallery' } } });
    expect(await screen.findByTestId('gallery')).toBeInTheDocument();
    found = true;
    transport.emit('studio://library-damaged', 'The library database /home/me/kie-studio/library.db is damaged.');
    expect(await screen.findByTestId('library-damaged')).toHaveTextContent('library.db is damaged');
  });
});
