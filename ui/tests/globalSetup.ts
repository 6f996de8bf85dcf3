// Starts the browser server (the real core over HTTP, with its own Kie simulator and test
// hooks) once for the UI's tests; every test file talks to it through the generated client.
// The binary is built by scripts/test.sh (`cargo build -p studio-server --features test-hooks`:
// without the feature the core ignores the keyring entry and picker files named below).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestProject } from 'vitest/node';
import type { ServerInfo } from './serverInfo';

let child: ChildProcess | null = null;

export default async function setup(project: TestProject) {
  const bin = resolve(__dirname, '../../target/debug/kie-studio-server');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo build -p studio-server --features test-hooks\` first`);
  child = spawn(bin, ['--test-hooks', '--sim', '--gen-ms', '1500'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      // A keyring entry of its own, and quick polling, for tests only.
      KIE_STUDIO_KEYRING_SERVICE: `ai.kie.studio.ui-test-${process.pid}`,
      KIE_STUDIO_POLL_SCALE: '0.05',
      KIE_API_KEY: '',
      // What the file picker returns instead of a native dialog: for each field, the files
      // its kind takes (tests/fixtures/uploads: a picture, a 2 s clip, a 3 s sound).
      KIE_STUDIO_E2E_PICK: ['beach.jpg', 'portrait.png', 'clip.mp4', 'voice.wav']
        .map((f) => resolve(__dirname, 'fixtures/uploads', f))
        .join(':'),
    },
  });
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<ServerInfo>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('kie-studio-server did not start')), 20_000);
    lines.on('line', (line) => {
      const m = /^kie-studio-server (\{.*\})$/.exec(line);
      if (m) {
        clearTimeout(timer);
        ok(JSON.parse(m[1]) as ServerInfo);
      }
    });
    child!.on('exit', (code) => fail(new Error(`kie-studio-server exited (${code})`)));
  });
  project.provide('server', info);
  return async () => {
    child?.stdin?.end();
    child?.kill();
  };
}
