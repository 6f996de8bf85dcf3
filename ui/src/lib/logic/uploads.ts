// Files from the computer for link fields. Which fields take them, and of which kind, is the
// catalogue's `limits.media` (on the link, or on a list's links); every check of the file
// (format by its bytes, size, a clip's length) is the core's, in `pick_files`.

import type { FieldSpec } from '../bindings/FieldSpec';
import type { MediaType } from '../bindings/MediaType';
import type { UploadedFile } from '../bindings/UploadedFile';
import type { UploadProgress } from '../bindings/UploadProgress';
import { plainErrorText, toApiError } from './errors';
import { formatBytes } from './format';

/** The kind of local file a link field (or a list of links) takes; null: links only. */
export function mediaOf(field: Pick<FieldSpec, 'type' | 'limits' | 'items'>): MediaType | null {
  if (field.type === 'url') return field.limits.media ?? null;
  if (field.type === 'list' && field.items?.type === 'url') return field.items.limits.media ?? null;
  return null;
}

/** The pick button's words: "Add images…", "Add a clip…", "Add audio…". */
export function pickLabel(media: MediaType, many: boolean): string {
  switch (media) {
    case 'image':
      return many ? 'Add images…' : 'Add an image…';
    case 'video':
      return many ? 'Add clips…' : 'Add a clip…';
    case 'audio':
      return 'Add audio…';
  }
}

/** What a link's placeholder suggests. */
export function linkPlaceholder(media: MediaType | null): string {
  switch (media) {
    case 'image':
      return 'https://example.com/picture.jpg';
    case 'video':
      return 'https://example.com/clip.mp4';
    case 'audio':
      return 'https://example.com/sound.mp3';
    default:
      return 'https://…';
  }
}

/**
 * Why a pick failed, in plain words: the core's problems (each names the file, the field and
 * the limit: "clip.mp4 is 6.2 s; Character clip must be 1 to 4 s."), else the code's words.
 */
export function pickErrorText(e: unknown): string {
  const err = toApiError(e);
  if (err.code === 'invalid_input' && err.problems.length > 0) return err.problems.map((p) => p.message).join(' ');
  return plainErrorText(err.code);
}

/** "12.5 KB · 3.2 s · MP4", for an uploaded file's row. */
export function describeUpload(f: Pick<UploadedFile, 'size' | 'seconds' | 'format' | 'kind'>): string {
  const parts = [formatBytes(f.size)];
  if (f.seconds !== null && f.kind !== 'image') parts.push(`${Math.round(f.seconds * 10) / 10} s`);
  parts.push(f.format.toUpperCase());
  return parts.join(' · ');
}

/** How far an upload is, in whole percent (0 before the size is known). */
export function uploadPercent(p: Pick<UploadProgress, 'done' | 'total'> | null): number {
  return p && p.total > 0 ? Math.round((p.done / p.total) * 100) : 0;
}
