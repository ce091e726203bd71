//! The Hub's own checksum of a weight file: its API lists every LFS file with the SHA-256 of
//! its content, so a download damaged on the way (or by a proxy) is caught before the model
//! is built or stored. Pure parsing here, tested natively; the worker fetches and hashes.

use serde::Deserialize;

#[derive(Deserialize)]
struct TreeEntry {
    path: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    lfs: Option<LfsInfo>,
}

#[derive(Deserialize)]
struct LfsInfo {
    oid: String,
    #[serde(default)]
    size: Option<u64>,
}

/// What a file must hash to, per the Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Lowercase hex.
    pub sha256: String,
    pub size: Option<u64>,
}

/// `{hub}/api/models/{repo}/tree/main`: the listing that carries the checksums.
pub fn tree_url(hub: &str, repo: &str) -> String {
    format!("{}/api/models/{repo}/tree/main", hub.trim_end_matches('/'))
}

/// The expected SHA-256 of `file` from a tree listing; `None` when the listing is not one
/// (a mirror without the API) or the file is not an LFS file.
pub fn expected_sha256(listing: &str, file: &str) -> Option<Expected> {
    let entries: Vec<TreeEntry> = serde_json::from_str(listing).ok()?;
    let e = entries.into_iter().find(|e| e.path == file)?;
    let lfs = e.lfs?;
    let hex = lfs.oid.trim_start_matches("sha256:").to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Expected { sha256: hex, size: lfs.size.or(e.size) })
}

/// Every file a tree listing names; `None` when it is not a listing.
pub fn listed_files(listing: &str) -> Option<Vec<String>> {
    let entries: Vec<TreeEntry> = serde_json::from_str(listing).ok()?;
    Some(entries.into_iter().map(|e| e.path).collect())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"[
        {"type":"file","oid":"4b8e","size":641,"path":"config.json"},
        {"type":"file","oid":"9f1c","size":863,"path":"pytorch_model.bin",
         "lfs":{"oid":"1B2A5E0B9A3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6","size":863,"pointerSize":135}}
    ]"#;

    #[test]
    fn reads_the_lfs_checksum() {
        let e = expected_sha256(LISTING, "pytorch_model.bin").unwrap();
        assert_eq!(e.sha256, "1b2a5e0b9a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6");
        assert_eq!(e.size, Some(863));
        assert_eq!(expected_sha256(LISTING, "config.json"), None, "not an LFS file");
        assert_eq!(expected_sha256(LISTING, "model.safetensors"), None);
        assert_eq!(expected_sha256("<html>Not found</html>", "pytorch_model.bin"), None);
        assert_eq!(expected_sha256(r#"{"error":"Repository not found"}"#, "pytorch_model.bin"), None);
        assert_eq!(tree_url("https://huggingface.co/", "microsoft/DialoGPT-small"), "https://huggingface.co/api/models/microsoft/DialoGPT-small/tree/main");
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(listed_files(LISTING).unwrap(), ["config.json", "pytorch_model.bin"]);
        assert_eq!(listed_files("<html>"), None);
    }
}
