import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { inTauri, pickBackend } from './lib/backend';
import type { FakeOptions } from './lib/backend/fake';
import { SCREENS, type Screen } from './lib/state/studio.svelte';

// In a plain browser (the fake backend) the address may set the scene, for screenshots:
// ?demo=1 (start in the demo), ?key=1 (a key already saved), ?seed=1 (examples in every
// state), ?screen=create|gallery|characters|settings, ?model=<model id>.
const params = new URLSearchParams(window.location.search);
const fakeOptions: FakeOptions = {
  demo: params.has('demo'),
  keySet: params.has('key'),
  seed: params.has('seed'),
};
const screen = params.get('screen');
const initial = inTauri()
  ? {}
  : {
      screen: SCREENS.includes(screen as Screen) ? (screen as Screen) : undefined,
      model: params.get('model') ?? undefined,
    };

const target = document.getElementById('app')!;
pickBackend(fakeOptions).then((backend) => {
  mount(App, { target, props: { backend, initial } });
});
