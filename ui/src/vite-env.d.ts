/// <reference types="svelte" />
/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The browser server's address, when the page's query string does not give one. */
  readonly VITE_STUDIO_SERVER?: string;
  /** Its token. */
  readonly VITE_STUDIO_TOKEN?: string;
}
