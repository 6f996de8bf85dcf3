// One pick button's run ("Add images…" on a link or a list of links): choosing files, the
// upload's progress, and what to tell afterwards. The core checks, keeps and uploads the files
// (`pick_files`, by the field's path); what to do with them is the caller's.

import type { StudioApi } from '../api';
import type { UploadedFile } from '../bindings/UploadedFile';
import type { UploadProgress } from '../bindings/UploadProgress';
import type { MediaType } from '../bindings/MediaType';
import { pickErrorText, pickLabel, uploadPercent } from '../logic/uploads';

export interface PickNote {
  kind: 'error' | 'info';
  text: string;
}

export class FilePick {
  /** The file dialog or the upload is under way. */
  picking = $state(false);
  /** The upload's progress while it runs. */
  uploading: UploadProgress | null = $state(null);
  /** After a pick: the core's notes on the files, or why it failed. */
  note: PickNote | null = $state(null);
  readonly percent = $derived(uploadPercent(this.uploading));

  /** The button's words: what it does, or what it is doing. */
  label(media: MediaType, many: boolean): string {
    return this.uploading ? 'Uploading…' : this.picking ? 'Choosing…' : pickLabel(media, many);
  }

  /**
   * Picks files for `field` of `model` and hands them to `place`, which puts them in the form
   * and returns the notes to show. Nothing happens while a pick is under way.
   */
  async run(
    api: Pick<StudioApi, 'pickFiles'>,
    target: { model: string; field: string },
    place: (files: UploadedFile[]) => string[],
  ): Promise<void> {
    if (this.picking) return;
    this.picking = true;
    this.note = null;
    this.uploading = null;
    try {
      const files = await api.pickFiles({ ...target, onProgress: (p) => (this.uploading = p) });
      const notes = place(files);
      if (notes.length > 0) this.note = { kind: 'info', text: notes.join(' ') };
    } catch (e) {
      this.note = { kind: 'error', text: pickErrorText(e) };
    } finally {
      this.picking = false;
      this.uploading = null;
    }
  }
}
