import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { inTauri, pickBackend } from './lib/backend';
import type { FakeOptions } from './lib/backend/fake';
import { SCREENS, type Screen } from './lib/state/studio.svelte';

// In a plain browser (the fake backend) the address may set the scene, for screenshots:
// ?demo=1 (start in the demo), ?key=1 (a key already saved), ?seed=1 (examples in every
// state), ?screen=create|gallery|characters|settings, ?model=<model id>, ?many=<n> (a library
// of n made-up results), ?offline=1 (the balance cannot be fetched), ?media=<url> (videos play
// from there, e.g. a local server with sample files).
const params = new URLSearchParams(window.location.search);
const fakeOptions: FakeOptions = {
  demo: params.has('demo'),
  keySet: params.has('key'),
  seed: params.has('seed'),
  many: Math.min(100_000, Math.max(0, Number(params.get('many') ?? 0) || 0)),
  offline: params.has('offline'),
  mediaBase: params.get('media'),
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
