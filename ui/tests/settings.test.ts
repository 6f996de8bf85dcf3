// Settings says what a user sends with a report (issue 12): the version, the library folder and
// the log folder, with buttons that ask the core to open either folder in the file manager.
// Against the real core (the browser server: no file manager there, so opening fails politely),
// and against a stub for the call itself.
import { cleanup, render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import type { AppInfo } from '../src/lib/bindings/AppInfo';
import { appInfo, stubApi } from './stubApi';
import { serverPerTest } from './server';

function info(logDir: string | null): AppInfo {
  return appInfo({ version: '9.8.7', library_path: '/home/me/kie-studio', log_dir: logDir });
}

/** The window on a stub core that answers what the first screens ask. */
function stubWindow(logDir: string | null, openFolder: unknown = null) {
  return stubApi({
    get_app_info: info(logDir),
    get_catalogue: [],
    list_models: [],
    list_tasks: [],
    list_queue: [],
    list_characters: [],
    list_results: { items: [], total: 0 },
    watch_progress: null,
    get_balance: { credits: 100, usd: 0.5 },
    open_folder: openFolder,
  });
}

describe('settings against the real core', () => {
  const core = serverPerTest();

  it('shows the version, the library folder and the log folder, and says when no file manager opens', async () => {
    const api = core.api;
    await api.startDemo();
    const got = await api.getAppInfo();
    expect(got.log_dir).toMatch(/logs$/);
    const user = userEvent.setup();
    render(App, { props: { api } });
    await user.click(await screen.findByTestId('nav-settings'));
    expect(await screen.findByTestId('version')).toHaveTextContent(got.version);
    expect(screen.getByTestId('library-path')).toHaveValue(got.library_path);
    expect(screen.getByTestId('log-path')).toHaveValue(got.log_dir);
    // The browser server has no desktop: the core says so, the window keeps its words plain.
    await user.click(screen.getByTestId('open-log-folder'));
    expect(await screen.findByTestId('folder-error')).toHaveTextContent('The file manager could not be opened');
    await user.click(screen.getByTestId('open-library-folder'));
    expect(await screen.findByTestId('folder-error')).toHaveTextContent('copy its path');
  });
});

describe('settings on a stub core', () => {
  afterEach(() => cleanup());

  it('asks the core to open the folder by name, never by path', async () => {
    const { api, transport: t } = stubWindow('/home/me/.local/state/kie-studio/logs');
    const user = userEvent.setup();
    render(App, { props: { api } });
    await user.click(await screen.findByTestId('nav-settings'));
    expect(await screen.findByTestId('log-path')).toHaveValue('/home/me/.local/state/kie-studio/logs');
    expect(screen.getByTestId('version')).toHaveTextContent('9.8.7');
    await user.click(screen.getByTestId('open-log-folder'));
    await user.click(screen.getByTestId('open-library-folder'));
    const opened = t.calls.filter((c) => c.command === 'open_folder').map((c) => c.args);
    expect(opened).toEqual([{ which: 'logs' }, { which: 'library' }]);
    expect(screen.queryByTestId('folder-error')).toBeNull();
  });

  it('says so when there is no log folder', async () => {
    const { api } = stubWindow(null);
    const user = userEvent.setup();
    render(App, { props: { api } });
    await user.click(await screen.findByTestId('nav-settings'));
    expect(await screen.findByTestId('log-path-none')).toHaveTextContent('no folder for logs');
    expect(screen.queryByTestId('open-log-folder')).toBeNull();
    expect(screen.getByTestId('library-path')).toHaveValue('/home/me/kie-studio');
  });
});
