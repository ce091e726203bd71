//! Reads a stored OPFS body through a synchronous access handle: large reads straight into
//! wasm memory, with no promise per chunk and no copy out of a JS buffer. The other route,
//! `File.stream()`, hands over small chunks (64 KiB in Chromium), each a promise and a copy,
//! which made reading the slowest step of a warm load. The stream stays the fallback for a
//! file another tab of this site holds open.

use super::entry::storage_error;
use js_sys::{Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{FileSystemFileHandle, FileSystemReadWriteOptions, FileSystemSyncAccessHandle};

/// Bytes per read: large enough that the calls cost nothing, small enough to report progress
/// and let a Cancel in between.
pub const READ_BYTES: usize = 8 << 20;

pub struct FileReader {
    /// `None` once the file has been read to its end (the handle is closed then).
    handle: Option<FileSystemSyncAccessHandle>,
    at: u64,
    len: u64,
}

impl FileReader {
    /// Opens the file for reading, or `None` where the browser refuses a handle (another tab
    /// of this site has the file open, or no sync handles in this browser).
    pub async fn open(file: &FileSystemFileHandle, len: u64) -> Option<Self> {
        // "read-only" lets two tabs read the same model at once where the browser knows the
        // option; elsewhere it is ignored and the handle is exclusive.
        let options = Object::new();
        let _ = Reflect::set(&options, &"mode".into(), &"read-only".into());
        let create: js_sys::Function = Reflect::get(file, &"createSyncAccessHandle".into()).ok()?.dyn_into().ok()?;
        let promise: js_sys::Promise = create.call1(file, &options).ok()?.dyn_into().ok()?;
        let handle: FileSystemSyncAccessHandle = JsFuture::from(promise).await.ok()?.unchecked_into();
        Some(Self { handle: Some(handle), at: 0, len })
    }

    /// Reads the next bytes into `buf` (the model loader's own buffer: no copy after this);
    /// 0 at the end of the file.
    pub fn read_into(&mut self, buf: &mut [u8]) -> Result<usize, String> {
        let Some(handle) = self.handle.as_ref().filter(|_| self.at < self.len) else {
            self.close();
            return Ok(0);
        };
        let want = buf.len().min((self.len - self.at) as usize);
        let opts = FileSystemReadWriteOptions::new();
        opts.set_at(self.at as f64);
        let got = handle.read_with_u8_array_and_options(&mut buf[..want], &opts).map_err(|e| storage_error(&e))? as usize;
        if got == 0 && want > 0 {
            return Err(format!("the stored file ended after {} of {} bytes", self.at, self.len));
        }
        self.at += got as u64;
        Ok(got)
    }

    /// The next chunk, or `None` at the end of the file.
    pub fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        let mut buf = vec![0u8; READ_BYTES.min((self.len - self.at.min(self.len)) as usize)];
        let n = self.read_into(&mut buf)?;
        buf.truncate(n);
        Ok((n > 0).then_some(buf))
    }

    /// The handle locks the file (its removal fails meanwhile): let go as soon as reading stops.
    fn close(&mut self) {
        if let Some(h) = self.handle.take() {
            h.close();
        }
    }
}

impl Drop for FileReader {
    fn drop(&mut self) {
        self.close();
    }
}

