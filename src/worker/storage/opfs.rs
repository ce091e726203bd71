//! Stored models in the Origin Private File System: the worker writes the GGUF file straight
//! to disk through a synchronous access handle while the converter produces it, so the model
//! is never held twice in memory (the Cache API needs the whole body as one buffer).
//!
//! An entry is two files: `<key>.gguf` (the body) and `<key>.json` (its [`EntryMeta`]). The
//! metadata is written last, once the model has built: a body without it is an unfinished
//! write and is ignored (and removed on the next store).

use super::body::StoredBody;
use super::digest::Digest;
use super::entry::{storage_error, EntryMeta, QUOTA_FULL};
use super::opfs_reader::FileReader;
use crate::js_message::js_message;
use crate::worker::fetch::BodyReader;
use js_sys::Reflect;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    File, FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetDirectoryOptions, FileSystemGetFileOptions,
    FileSystemReadWriteOptions, FileSystemSyncAccessHandle, WorkerGlobalScope,
};

const DIR: &str = "dialogpt-models-v1";

/// The models folder, or why there is none (no OPFS in this browser, storage blocked).
async fn dir() -> Result<FileSystemDirectoryHandle, String> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    let storage = global.navigator().storage();
    if !Reflect::has(&storage, &"getDirectory".into()).unwrap_or(false) {
        return Err("no Origin Private File System in this browser".into());
    }
    let root: FileSystemDirectoryHandle = JsFuture::from(storage.get_directory()).await.map_err(|e| storage_error(&e))?.unchecked_into();
    let opts = FileSystemGetDirectoryOptions::new();
    opts.set_create(true);
    Ok(JsFuture::from(root.get_directory_handle_with_options(DIR, &opts)).await.map_err(|e| storage_error(&e))?.unchecked_into())
}

async fn file(dir: &FileSystemDirectoryHandle, name: &str, create: bool) -> Result<FileSystemFileHandle, String> {
    let opts = FileSystemGetFileOptions::new();
    opts.set_create(create);
    Ok(JsFuture::from(dir.get_file_handle_with_options(name, &opts)).await.map_err(|e| storage_error(&e))?.unchecked_into())
}

async fn read_text(dir: &FileSystemDirectoryHandle, name: &str) -> Option<String> {
    let handle = file(dir, name, false).await.ok()?;
    let f: File = JsFuture::from(handle.get_file()).await.ok()?.unchecked_into();
    JsFuture::from(f.text()).await.ok()?.as_string()
}

async fn sync_handle(handle: &FileSystemFileHandle) -> Result<FileSystemSyncAccessHandle, String> {
    Ok(JsFuture::from(handle.create_sync_access_handle()).await.map_err(|e| storage_error(&e))?.unchecked_into())
}

fn body_name(key: &str) -> String {
    format!("{key}.gguf")
}

fn meta_name(key: &str) -> String {
    format!("{key}.json")
}

/// The file is grown ahead of the writes, in steps that double up to this much, so the browser
/// resizes the file and checks the site's quota a few times instead of on every write.
const MAX_GROWTH: u64 = 256 << 20;
const MIN_SIZE: u64 = 32 << 20;

/// Writes the body of an entry in progress; `Write + Seek` for the GGUF writer.
pub struct BodyWriter {
    handle: FileSystemSyncAccessHandle,
    pos: u64,
    len: u64,
    /// The file's size on disk: `len` plus room claimed ahead, cut back when the body is done.
    room: u64,
    /// Kept while every write appends (the GGUF writer's case); else recomputed at the end.
    digest: Option<Digest>,
}

impl Write for BodyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.grow_for(self.pos + buf.len() as u64);
        let opts = FileSystemReadWriteOptions::new();
        opts.set_at(self.pos as f64);
        // The handle takes a view of wasm memory: no copy into a JS buffer.
        let n = self.handle.write_with_u8_array_and_options(buf, &opts).map_err(|e| io::Error::other(storage_error(&e)))? as usize;
        if n < buf.len() {
            return Err(io::Error::other(QUOTA_FULL));
        }
        match &mut self.digest {
            Some(d) if self.pos == self.len => d.update(buf),
            _ => self.digest = None,
        }
        self.pos += n as u64;
        self.len = self.len.max(self.pos);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.handle.flush().map_err(|e| io::Error::other(storage_error(&e)))
    }
}

impl Seek for BodyWriter {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => n as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
            SeekFrom::End(d) => self.len as i128 + d as i128,
        };
        self.pos = u64::try_from(target).map_err(|_| io::Error::other("seek before the start"))?;
        Ok(self.pos)
    }
}

impl BodyWriter {
    /// Claims room for a body reaching `end`. Where the browser refuses (quota), the writes go
    /// on without room claimed ahead and say for themselves whether they fit.
    fn grow_for(&mut self, end: u64) {
        if end <= self.room {
            return;
        }
        let to = end.max(self.room + self.room.clamp(MIN_SIZE, MAX_GROWTH));
        if self.handle.truncate_with_f64(to as f64).is_ok() {
            self.room = to;
        }
    }

    /// Closes the file and returns (size, checksum).
    fn finish(self) -> Result<(u64, String), String> {
        if self.room > self.len {
            self.handle.truncate_with_f64(self.len as f64).map_err(|e| storage_error(&e))?;
        }
        self.handle.flush().map_err(|e| storage_error(&e))?;
        let digest = match self.digest {
            Some(d) => d.finish(),
            None => {
                // Some write went back: read the file once to checksum what is really there.
                let mut d = Digest::default();
                let mut buf = vec![0u8; 4 << 20];
                let mut at = 0u64;
                while at < self.len {
                    let opts = FileSystemReadWriteOptions::new();
                    opts.set_at(at as f64);
                    let n = self.handle.read_with_u8_array_and_options(&mut buf, &opts).map_err(|e| storage_error(&e))? as usize;
                    if n == 0 {
                        break;
                    }
                    d.update(&buf[..n]);
                    at += n as u64;
                }
                d.finish()
            }
        };
        self.handle.close();
        Ok((self.len, digest))
    }
}

/// An entry whose body is being written.
pub struct Pending {
    dir: FileSystemDirectoryHandle,
    key: String,
    /// Buffered: the GGUF writer makes ~10^5 tiny writes (one per tokenizer string), and each
    /// call into the file handle costs far more than a memcpy.
    pub writer: BufWriter<BodyWriter>,
}

/// Writes out what is buffered and closes the body: (size, checksum).
fn finish(writer: BufWriter<BodyWriter>) -> Result<(u64, String), String> {
    writer.into_inner().map_err(|e| e.error().to_string())?.finish()
}

/// Starts an entry (dropping any older one under `key`): the body goes to `pending.writer`.
pub async fn begin(key: &str) -> Result<Pending, String> {
    let dir = dir().await?;
    remove_in(&dir, key).await;
    let handle = sync_handle(&file(&dir, &body_name(key), true).await?).await?;
    handle.truncate_with_f64(0.0).map_err(|e| storage_error(&e))?;
    let body = BodyWriter { handle, pos: 0, len: 0, room: 0, digest: Some(Digest::default()) };
    Ok(Pending { dir, key: key.into(), writer: BufWriter::with_capacity(4 << 20, body) })
}

/// Makes the entry visible: closes the body and writes its metadata.
pub async fn commit(pending: Pending, mut meta: EntryMeta) -> Result<(), String> {
    let Pending { dir, key, writer } = pending;
    let result = async {
        let (bytes, digest) = finish(writer)?;
        meta.bytes = bytes;
        meta.digest = digest;
        let json = serde_json::to_vec(&meta).map_err(|e| e.to_string())?;
        let handle = sync_handle(&file(&dir, &meta_name(&key), true).await?).await?;
        let write = handle.truncate_with_f64(0.0).and_then(|_| handle.write_with_u8_array(&json)).and_then(|_| handle.flush());
        handle.close();
        write.map_err(|e| storage_error(&e))?;
        Ok(())
    }
    .await;
    if result.is_err() {
        remove_in(&dir, &key).await;
    }
    result
}

/// Drops an unfinished entry (the load failed or was cancelled).
pub async fn abort(pending: Pending) {
    // Whatever is still buffered is dropped, not written.
    let (body, _) = pending.writer.into_parts();
    body.handle.close();
    remove_in(&pending.dir, &pending.key).await;
}

async fn remove_in(dir: &FileSystemDirectoryHandle, key: &str) {
    // Metadata first: a body without it is never read.
    for name in [meta_name(key), body_name(key)] {
        // A file still open (a read or write that has not let go yet) refuses removal for a
        // moment: try again a few times before leaving it (without its metadata, it is never read).
        for attempt in 1..=4 {
            let Err(e) = JsFuture::from(dir.remove_entry(&name)).await else { break };
            let what = Reflect::get(&e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
            if what == "NotFoundError" {
                break;
            }
            if attempt == 4 {
                web_sys::console::warn_1(&format!("could not remove {name}: {what} {}", js_message(&e)).into());
            } else {
                crate::worker::fetch::sleep(100 * attempt).await;
            }
        }
    }
}

pub async fn remove(key: &str) {
    if let Ok(dir) = dir().await {
        remove_in(&dir, key).await;
    }
}

/// The entry's metadata and a reader of its body, if it is complete.
pub async fn lookup(key: &str) -> Option<(EntryMeta, StoredBody)> {
    let dir = dir().await.ok()?;
    let meta: EntryMeta = serde_json::from_str(&read_text(&dir, &meta_name(key)).await?).ok()?;
    let handle = file(&dir, &body_name(key), false).await.ok()?;
    let body: File = JsFuture::from(handle.get_file()).await.ok()?.unchecked_into();
    if body.size() as u64 != meta.bytes {
        remove_in(&dir, key).await;
        return None;
    }
    match FileReader::open(&handle, meta.bytes).await {
        Some(reader) => Some((meta, StoredBody::File(reader))),
        None => Some((meta, StoredBody::Stream(BodyReader::from_stream(body.stream())))),
    }
}

/// Every complete entry: (key, metadata).
pub async fn list() -> Result<Vec<(String, EntryMeta)>, String> {
    let dir = dir().await?;
    let mut out = Vec::new();
    let names = dir.keys();
    loop {
        let step = JsFuture::from(names.next().map_err(|e| js_message(&e))?).await.map_err(|e| js_message(&e))?;
        if Reflect::get(&step, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            break;
        }
        let Some(name) = Reflect::get(&step, &"value".into()).ok().and_then(|v| v.as_string()) else { continue };
        let Some(key) = name.strip_suffix(".json") else { continue };
        if let Some(meta) = read_text(&dir, &name).await.and_then(|t| serde_json::from_str::<EntryMeta>(&t).ok()) {
            out.push((key.to_string(), meta));
        }
    }
    Ok(out)
}
