// Numbers, money and time as the window shows them.

const countFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const usdFmt = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

/** 9970 → "9,970"; 18.5 → "18.5". */
export function formatCredits(credits: number): string {
  return countFmt.format(credits);
}

/** 0.15 → "$0.15"; below a cent → "<$0.01". */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.005) return '<$0.01';
  return usdFmt.format(usd);
}

/** "30 credits" / "1 credit". */
export function creditsLabel(credits: number): string {
  return `${formatCredits(credits)} ${credits === 1 ? 'credit' : 'credits'}`;
}

/**
 * Elapsed time, calm and short: "0 s", "45 s", "3 min 05 s", "1 h 02 min", "2 d 3 h".
 * Negative spans (clock skew) count as zero.
 */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  if (minutes < 60) return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** A moment as a short local date and time: "Mar 4, 14:05". */
export function formatWhen(ms: number): string {
  const d = new Date(ms);
  const date = d.toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return `${date}, ${time}`;
}

/** The first `max` characters of a text on one line, with an ellipsis when cut. */
export function snippet(text: string | null | undefined, max = 80): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

/** Bytes as "3.2 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A library path joined with a path relative to it (as docs/ipc.md says: `root + '/' + rel`). */
export function libraryFile(libraryPath: string, rel: string): string {
  return `${libraryPath.replace(/[\\/]+$/, '')}/${rel.replace(/^[\\/]+/, '')}`;
}

/** A day, with the year only when it is not this year: "Mar 4" / "Mar 4, 2025". */
// Made once: `toLocaleDateString` with options builds a formatter on every call, which the
// gallery paid for every tile that scrolled into view.
const DAY = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric' });
const DAY_YEAR = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric' });

export function formatDay(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return (sameYear ? DAY : DAY_YEAR).format(d);
}

/** A moment in full: "Mar 4, 2026, 14:05". */
export function formatFull(ms: number): string {
  const d = new Date(ms);
  const date = d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric' });
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return `${date}, ${time}`;
}

/** What a result cost: consumed, else the estimate; null when unknown. */
export function resultCredits(r: { credits_consumed: number | null; credits_estimated: number | null }): number | null {
  return r.credits_consumed ?? r.credits_estimated;
}
