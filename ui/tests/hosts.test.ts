// Issue 10 in the window, against the real core (the browser server, whose Kie is its own
// simulator on loopback: not Kie's own host): the top bar and Settings say where the key goes,
// and Settings says which key is in use.
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { server, serverPerTest } from './server';

const core = serverPerTest();

describe('where the key goes', () => {
  it('names a host that is not Kie’s own, and the key in use', async () => {
    const api = core.api;
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
    const api = core.api;
    await api.startDemo();
    expect((await api.getAppInfo()).hosts).toBeNull();
    render(App, { props: { api } });
    await screen.findByTestId('demo-badge');
    expect(screen.queryByTestId('custom-hosts-badge')).toBeNull();
  });
});
