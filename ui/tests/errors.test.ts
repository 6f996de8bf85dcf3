import { describe, expect, it } from 'vitest';
import { plainError, plainErrorText, toApiError } from '../src/lib/logic/errors';

describe('error codes in plain words', () => {
  it('says what to do about the money', () => {
    expect(plainErrorText('insufficient_credits')).toBe('Not enough credits. Top up at kie.ai, then try again.');
  });

  it('sends a rejected key to the settings', () => {
    expect(plainError('unauthorized')).toMatchObject({ title: 'Kie did not accept your key.', link: 'settings' });
  });

  it('says a paused model plainly', () => {
    for (const code of ['model_paused', 'feature_disabled']) {
      expect(plainErrorText(code)).toBe('Kie has paused this model for now. Try again later.');
    }
  });

  it('says busy for every passing trouble', () => {
    for (const code of ['rate_limited', 'unavailable', 'server_error', 'timeout', 'connection']) {
      expect(plainErrorText(code)).toBe('Kie is busy or unreachable. Try again in a few minutes.');
    }
  });

  it('is honest about an unknown outcome', () => {
    expect(plainErrorText('outcome_unknown')).toBe(
      "We don't know whether Kie received this task. It was not sent again, so you won't pay twice. Check again, or resubmit on purpose.",
    );
  });

  it('has something calm to say about codes it does not know', () => {
    expect(plainErrorText('something_new')).toBe('Something went wrong. Try again in a few minutes.');
    expect(plainErrorText(null)).toBe('Something went wrong. Try again in a few minutes.');
  });

  it('turns whatever a command rejected with into an ApiError', () => {
    const problems = [{ field: 'prompt', rule: 'required', message: 'Prompt is required.' }];
    expect(toApiError({ code: 'invalid_input', message: 'x', problems })).toEqual({ code: 'invalid_input', message: 'x', problems });
    expect(toApiError({ code: 'no_such_code', message: 'x' }).code).toBe('internal');
    expect(toApiError('command not found')).toEqual({ code: 'internal', message: 'command not found', problems: [] });
    expect(toApiError(new Error('boom')).message).toBe('boom');
  });
});
