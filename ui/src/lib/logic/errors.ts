// Error codes → plain words and what to do. The window branches on `code` (the closed union
// ApiErrorCode, or a Task's `error_code`), never on message text.

import type { ApiError } from '../bindings/ApiError';
import type { ApiErrorCode } from '../bindings/ApiErrorCode';
import type { Problem } from '../bindings/Problem';

export interface PlainError {
  /** What happened, in one short sentence. */
  title: string;
  /** What the user can do about it (may be empty). */
  action: string;
  /** Where a link should take the user, if anywhere. */
  link?: 'settings';
}

const BUSY: PlainError = {
  title: 'Kie is busy or unreachable.',
  action: 'Try again in a few minutes.',
};

const PAUSED: PlainError = {
  title: 'Kie has paused this model for now.',
  action: 'Try again later.',
};

const DOWNLOAD: PlainError = {
  title: 'The finished file could not be downloaded.',
  action: 'Use "Check again" to try the download once more.',
};

const LIBRARY: PlainError = {
  title: 'Your library could not be read or written.',
  action: 'Restart Kie Studio. If it keeps happening, check that the disk is not full.',
};

const INTERNAL: PlainError = {
  title: 'Something went wrong inside Kie Studio.',
  action: 'Try again. If it keeps happening, restart the app.',
};

/** Exhaustive: a new code in the bindings fails the type check until it has words here. */
const WORDS: Record<ApiErrorCode, PlainError> = {
  invalid_input: {
    title: 'Some settings need fixing.',
    action: 'See the notes next to the fields.',
  },
  invalid_request: {
    title: 'Kie did not accept these settings.',
    action: 'Check the form, then try again.',
  },
  unauthorized: {
    title: 'Kie did not accept your key.',
    action: 'Check it in Settings.',
    link: 'settings',
  },
  no_key: {
    title: 'There is no Kie key yet.',
    action: 'Add your key in Settings.',
    link: 'settings',
  },
  insufficient_credits: {
    title: 'Not enough credits.',
    action: 'Top up at kie.ai, then try again.',
  },
  not_found: {
    title: 'Kie could not find this task.',
    action: 'Check the task id in your Kie account.',
  },
  not_in_library: {
    title: 'That is no longer in your library.',
    action: 'It may have been removed in the meantime; look again.',
  },
  upstream_timeout: {
    title: 'Kie took too long and gave up on this one.',
    action: 'Try again; a shorter or simpler prompt may help.',
  },
  rate_limited: BUSY,
  unavailable: BUSY,
  server_error: BUSY,
  timeout: BUSY,
  connection: BUSY,
  model_paused: PAUSED,
  feature_disabled: PAUSED,
  generation_failed: {
    title: 'Kie could not make this one.',
    action: 'Change the prompt (content rules are a common reason), then try again.',
  },
  unexpected_response: {
    title: 'Kie sent an answer Kie Studio could not read.',
    action: 'Try again in a few minutes.',
  },
  malformed_response: {
    title: 'Kie sent an answer Kie Studio could not read.',
    action: 'Try again in a few minutes.',
  },
  outcome_unknown: {
    title: "We don't know whether Kie received this task.",
    action: "It was not sent again, so you won't pay twice. Check again, or resubmit on purpose.",
  },
  link_expired: DOWNLOAD,
  truncated: DOWNLOAD,
  corrupt_download: DOWNLOAD,
  file: {
    title: 'That file could not be used.',
    action: 'Choose another file of the kind the field asks for.',
  },
  io: {
    title: 'A file could not be read or written.',
    action: 'Check that the disk is not full, then try again.',
  },
  db_too_new: {
    title: 'This library was made by a newer Kie Studio.',
    action: 'Update Kie Studio to open it.',
  },
  db_corrupt: {
    title: "Your library's database is damaged.",
    action: 'Kie Studio left it as it is; it can set it aside (keeping it) and start afresh with what it can read.',
  },
  db_io: LIBRARY,
  db_error: LIBRARY,
  json: INTERNAL,
  internal: INTERNAL,
  invalid_transition: {
    title: 'That cannot be done to this task now.',
    action: 'Its state changed in the meantime; look at it again.',
  },
  refused: {
    title: 'That cannot be done to this task now.',
    action: 'Its state changed in the meantime; look at it again.',
  },
  duplicate_handle: {
    title: 'That handle is already taken.',
    action: 'Choose another handle.',
  },
  kie_id_in_use: {
    title: 'That Kie task id already belongs to another task here.',
    action: 'Check the id, or look for that task in the queue.',
  },
  keyring_unavailable: {
    title: "Your system's password store is not available, so the key cannot be kept.",
    action: 'Unlock or set up the password store (keyring), then try again.',
  },
  bad_path: {
    title: 'That file or folder cannot be used.',
    action: 'Choose another one.',
  },
  not_ready: {
    title: 'Kie Studio is not set up yet.',
    action: 'Add your key or start the demo first.',
  },
};

const CODES = new Set(Object.keys(WORDS));

export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && CODES.has(code);
}

/** Plain words for an error code; unknown codes (a Task's free `error_code`) get a general message. */
export function plainError(code: string | null | undefined): PlainError {
  if (isApiErrorCode(code)) return WORDS[code];
  return {
    title: 'Something went wrong.',
    action: 'Try again in a few minutes.',
  };
}

/** Title and action as one line. */
export function plainErrorText(code: string | null | undefined): string {
  const p = plainError(code);
  return p.action ? `${p.title} ${p.action}` : p.title;
}

/**
 * Whatever a command rejected with, as an `ApiError`. The core rejects with one already; the
 * only check is that its `code` is one of the generated union. Anything else (a transport's
 * own failure, an unknown code) becomes `internal`, keeping what it said.
 */
export function toApiError(e: unknown): ApiError {
  if (e && typeof e === 'object' && !(e instanceof Error)) {
    const o = e as Record<string, unknown>;
    const message = typeof o.message === 'string' ? o.message : '';
    if (isApiErrorCode(o.code)) {
      return { code: o.code, message, problems: Array.isArray(o.problems) ? (o.problems as Problem[]) : [] };
    }
    if ('code' in o) {
      return { code: 'internal', message: `Unknown error code ${JSON.stringify(o.code)}: ${message}`, problems: [] };
    }
  }
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : `Unknown error: ${JSON.stringify(e)}`;
  return { code: 'internal', message, problems: [] };
}
