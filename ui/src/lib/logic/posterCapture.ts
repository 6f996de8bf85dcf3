// Captures a poster from a video the window can play: an offscreen, muted <video> loads
// it, seeks to about half a second, and the frame is drawn on a canvas at most 480 px wide
// and encoded as JPEG. Returns the base64 that `save_poster` takes.
//
// The media server is another origin than the window, so the video is loaded with
// `crossOrigin = "anonymous"`; without CORS on the server the canvas would be tainted and
// the capture fails (reported, never retried in a loop: see PosterQueue).

export interface CaptureOptions {
  /** Seconds into the video (default 0.5; shorter videos use their middle). */
  at?: number;
  maxWidth?: number;
  quality?: number;
  timeoutMs?: number;
}

function blobToBase64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result ?? '');
      const comma = url.indexOf(',');
      resolve(comma === -1 ? '' : url.slice(comma + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error('could not read the poster'));
    reader.readAsDataURL(blob);
  });
}

/** Width and height of the poster for a video of `w`×`h`: at most `max` wide, same shape. */
export function posterSize(w: number, h: number, max = 480): { width: number; height: number } {
  if (w <= 0 || h <= 0) return { width: max, height: Math.round((max * 9) / 16) };
  const scale = Math.min(1, max / w);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

export function captureFrame(src: string, opts: CaptureOptions = {}): Promise<string> {
  const at = opts.at ?? 0.5;
  const maxWidth = opts.maxWidth ?? 480;
  const quality = opts.quality ?? 0.85;
  const timeoutMs = opts.timeoutMs ?? 20_000;

  return new Promise<string>((resolve, reject) => {
    const video = document.createElement('video');
    let finished = false;
    const done = (err: Error | null, value?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      video.removeAttribute('src');
      try {
        video.load();
      } catch {
        // Releasing the decoder is best effort.
      }
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => done(new Error('the video did not load in time')), timeoutMs);

    video.muted = true;
    video.preload = 'auto';
    video.playsInline = true;
    video.crossOrigin = 'anonymous';
    video.onerror = () => done(new Error('the video could not be loaded'));
    video.onloadedmetadata = () => {
      const d = Number.isFinite(video.duration) && video.duration > 0 ? video.duration : at * 2;
      video.currentTime = Math.min(at, d / 2);
    };
    video.onseeked = () => {
      try {
        const { width, height } = posterSize(video.videoWidth, video.videoHeight, maxWidth);
        const canvas = document.createElement('canvas');
        canvas.width = width;
        canvas.height = height;
        const ctx = canvas.getContext('2d');
        if (!ctx) return done(new Error('no canvas'));
        ctx.drawImage(video, 0, 0, width, height);
        canvas.toBlob(
          (blob) => {
            if (!blob) return done(new Error('the frame could not be encoded'));
            blobToBase64(blob).then(
              (b64) => done(null, b64),
              (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
            );
          },
          'image/jpeg',
          quality,
        );
      } catch (e) {
        // A tainted canvas (no CORS on the media server) throws here.
        done(e instanceof Error ? e : new Error(String(e)));
      }
    };
    video.src = src;
  });
}
