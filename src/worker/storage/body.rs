//! A stored model's body as the loader reads it, whichever store holds it.

use super::indexed_db::ChunkReader;
use super::opfs_reader::FileReader;
use crate::worker::fetch::BodyReader;

pub enum StoredBody {
    /// An OPFS file read through a synchronous handle.
    File(FileReader),
    /// A file's or a cached response's byte stream.
    Stream(BodyReader),
    /// IndexedDB records.
    Chunks(ChunkReader),
}

impl StoredBody {
    /// The next chunk, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        match self {
            StoredBody::File(f) => f.next(),
            StoredBody::Stream(b) => b.next().await,
            StoredBody::Chunks(c) => c.next().await,
        }
    }

    /// Stops reading early (the load was replaced).
    pub fn cancel(&self) {
        if let StoredBody::Stream(b) = self {
            b.cancel();
        }
    }
}
