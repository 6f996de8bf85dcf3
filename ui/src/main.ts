import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { inTauri, pickApi } from './lib/api';
import { SCREENS, type Screen } from './lib/state/studio.svelte';

// In a plain browser (talking to the browser server: `?server=…&token=…`) the address may
// also set the scene: ?screen=create|gallery|characters|spend|settings, ?model=<model id>.
const params = new URLSearchParams(window.location.search);
const screen = params.get('screen');
const initial = inTauri()
  ? {}
  : {
      screen: SCREENS.includes(screen as Screen) ? (screen as Screen) : undefined,
      model: params.get('model') ?? undefined,
    };

// Marks of the start-up (`kie:*`): the bench reads them to say where launch time goes.
performance.mark('kie:main');
const target = document.getElementById('app')!;
pickApi().then(
  (api) => {
    performance.mark('kie:api');
    mount(App, { target, props: { api, initial } });
  },
  (e: unknown) => {
    const p = document.createElement('p');
    p.style.padding = '24px';
    p.textContent = e instanceof Error ? e.message : String(e);
    target.replaceChildren(p);
  },
);
