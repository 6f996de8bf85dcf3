import { describe, expect, it } from 'vitest';
import { creditsLabel, formatCredits, formatElapsed, formatUsd, libraryFile, snippet } from '../src/lib/logic/format';

describe('formatting', () => {
  it('formats elapsed time calmly', () => {
    expect(formatElapsed(0)).toBe('0 s');
    expect(formatElapsed(-500)).toBe('0 s');
    expect(formatElapsed(45_900)).toBe('45 s');
    expect(formatElapsed(60_000)).toBe('1 min 00 s');
    expect(formatElapsed(185_000)).toBe('3 min 05 s');
    expect(formatElapsed(3_720_000)).toBe('1 h 02 min');
    expect(formatElapsed(50 * 3_600_000)).toBe('2 d 2 h');
  });

  it('formats credits and dollars', () => {
    expect(formatCredits(9970)).toBe('9,970');
    expect(formatCredits(18.5)).toBe('18.5');
    expect(creditsLabel(1)).toBe('1 credit');
    expect(creditsLabel(30)).toBe('30 credits');
    expect(formatUsd(0.15)).toBe('$0.15');
    expect(formatUsd(49.85)).toBe('$49.85');
    expect(formatUsd(0.001)).toBe('<$0.01');
  });

  it('cuts long text to one line', () => {
    expect(snippet('a\n  b   c')).toBe('a b c');
    expect(snippet('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(snippet(null)).toBe('');
  });

  it('joins library paths', () => {
    expect(libraryFile('/lib/', 'posters/a.jpg')).toBe('/lib/posters/a.jpg');
    expect(libraryFile('C:\\Lib', 'media/a.mp4')).toBe('C:\\Lib/media/a.mp4');
  });
});
