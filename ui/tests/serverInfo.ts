// What globalSetup.ts hands the test files: apart from server.ts, whose helpers need the
// window's code, so that globalSetup (type-checked for Node, without the DOM) need not.
import 'vitest';

/** What globalSetup.ts read from the server's first line. */
export interface ServerInfo {
  url: string;
  token: string;
  library: string;
  sim_url: string;
  sim_key: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    server: ServerInfo;
  }
}
