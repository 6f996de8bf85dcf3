// Issue 10 in the window, against the real core (the browser server, whose Kie is its own
// simulator on loopback: not Kie's own host): the top bar and Settings say where the key goes,
// and Settings says which key is in use.
import { cleanup, render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { createStudioApi, type StudioApi } from '../src/lib/api';
import { createHttpTransport, type HttpTransport } from '../src/lib/api/http';
import { resetServer, server } from './server';

let transport: HttpTransport | null = null;

function connect(): StudioApi {
  const s = server();
  transport?.close();
  transport = createHttpTransport({ url: s.url, token: s.token });
  return createStudioApi(transport);
}

async function forgetKey() {
  const api = connect();
  if ((await api.getAppInfo()).key.set) await api.deleteKey();
}

beforeEach(async () => {
  localStorage.clear();
  await resetServer();
  await forgetKey();
  await resetServer();
});
afterEach(async () => {
  cleanup();
  await forgetKey();
  transport?.close();
  transport = null;
  localStorage.clear();
});

describe('where the key goes', () => {
  it('names a host that is not Kie’s own, and the key in use', async () => {
    const api = connect();
    await api.setKey({ key: server().sim_key });
    const info = await api.getAppInfo();
    expect(info.hosts?.api_base).toBe(server().sim_url);
    const user = userEvent.setup();
    render(App, { props: { api } });
    await screen.findByTestId('model-form');
    await user.click(await screen.findByTestId('custom-hosts-badge'));
    expect(await screen.findByTestId('custom-api-base')).toHaveTextContent(server().sim_url);
    expect(screen.getByTestId('custom-hosts')).toHaveTextContent("not Kie's own");
    expect(screen.getByTestId('key-source')).toHaveTextContent('password store');
    expect(screen.getByTestId('key-last4')).toHaveTextContent(server().sim_key.slice(-4));
  });

  it('says nothing about hosts in the demo', async () => {
    const api = connect();
    await api.startDemo();
    expect((await api.getAppInfo()).hosts).toBeNull();
    render(App, { props: { api } });
    await screen.findByTestId('demo-badge');
    expect(screen.queryByTestId('custom-hosts-badge')).toBeNull();
  });
});
