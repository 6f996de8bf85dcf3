//! [`Writer`]: a download's bytes written to its file on a thread of their own, so that the
//! next chunk is received while this one is written. Written through tokio's file, each chunk
//! was a hand-off to the blocking pool and back, and nothing was received meanwhile: a 1 GiB
//! download on loopback came at ~0.6× curl's speed (issue 11).

use std::io::Write;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::Progress;

/// Chunks on their way to the file at most (hyper's are up to a few hundred KiB each): 8 kept
/// the speed of 32 within the noise, and the RSS growth of a 1 GiB download at ~7 MiB, not ~14.
const QUEUE: usize = 8;

pub(crate) struct Writer {
    tx: mpsc::Sender<Bytes>,
    job: tokio::task::JoinHandle<std::io::Result<u64>>,
}

impl Writer {
    /// Writes to `file` from its cursor on, which stands at byte `at`; after each write it
    /// reports the bytes in the file (`progress(bytes, announced)`).
    pub(crate) async fn start(
        file: &tokio::fs::File,
        at: u64,
        progress: Option<Progress>,
        announced: Option<u64>,
    ) -> std::io::Result<Writer> {
        // The clone shares the cursor, which the caller has put where the bytes go.
        let mut out = file.try_clone().await?.into_std().await;
        let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
        let job = tokio::task::spawn_blocking(move || {
            let mut written = at;
            while let Some(chunk) = rx.blocking_recv() {
                out.write_all(&chunk)?;
                written += chunk.len() as u64;
                if let Some(p) = &progress {
                    p(written, announced);
                }
            }
            Ok(written)
        });
        Ok(Writer { tx, job })
    }

    /// Queues a chunk; `false` when the writer has stopped (a write failed: [`Writer::finish`] says why).
    pub(crate) async fn send(&self, chunk: Bytes) -> bool {
        self.tx.send(chunk).await.is_ok()
    }

    /// Waits until every queued chunk is written: the bytes in the file, or the write that failed.
    pub(crate) async fn finish(self) -> std::io::Result<u64> {
        drop(self.tx);
        self.job.await.unwrap_or_else(|e| Err(std::io::Error::other(format!("the download's writer stopped: {e}"))))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use tokio::io::AsyncSeekExt;

    use super::*;

    #[tokio::test]
    async fn writes_every_chunk_in_order_from_the_cursor_and_reports_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123").unwrap();
        let mut file = tokio::fs::OpenOptions::new().read(true).write(true).open(&path).await.unwrap();
        file.seek(std::io::SeekFrom::Start(2)).await.unwrap();
        let seen = Arc::new(AtomicU64::new(0));
        let s = seen.clone();
        let progress: Progress = Arc::new(move |done, total| {
            assert_eq!(total, Some(2 + 3000));
            s.store(done, Ordering::SeqCst);
        });
        let w = Writer::start(&file, 2, Some(progress), Some(2 + 3000)).await.unwrap();
        let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        for piece in data.chunks(7) {
            assert!(w.send(Bytes::copy_from_slice(piece)).await);
        }
        assert_eq!(w.finish().await.unwrap(), 3002);
        assert_eq!(seen.load(Ordering::SeqCst), 3002);
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(&on_disk[..2], b"01");
        assert_eq!(&on_disk[2..], &data[..]);
    }

    #[tokio::test]
    async fn a_failed_write_stops_it_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"").unwrap();
        // Read-only: every write fails.
        let file = tokio::fs::File::open(&path).await.unwrap();
        let w = Writer::start(&file, 0, None, None).await.unwrap();
        let mut refused = false;
        for _ in 0..(QUEUE + 4) {
            if !w.send(Bytes::from_static(b"abc")).await {
                refused = true;
                break;
            }
        }
        assert!(refused, "the writer took chunks after its write failed");
        assert!(w.finish().await.is_err());
    }
}
