//! The only door between the page and the worker: every message either side sends is one of
//! these serde types. Nothing else crosses, so the page never links the engine's compute code
//! and the worker never knows about the DOM. The engine's words the page needs (how weights
//! are quantized, how a reply is generated and why it ended) are part of this vocabulary and
//! re-exported from here: the page imports this module, never the engine.

use serde::{Deserialize, Serialize};

mod keep_state;
pub use keep_state::KeepState;

pub use crate::engine::{GenerationConfig, Quantization, StopReason, TurnStats};

/// Where Hub repo ids are fetched from unless the page says otherwise (`hub=`).
pub const DEFAULT_HUB: &str = "https://huggingface.co";

/// Where the model comes from; built by [`ModelSource::parse`] (see `source.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelSource {
    /// A Hub repository, files under `{hub}/{repo}/resolve/main/`.
    Hub { hub: String, repo: String },
    /// One `.gguf` file that carries config and tokenizer inside.
    Gguf { url: String },
    /// A folder in the Hub's layout (`config.json`, `vocab.json`, `merges.txt`, weights).
    Folder { url: String },
}

/// Where a loaded model is kept for the next visit (`storage=` in the page URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoragePolicy {
    /// The best store the browser has: the Origin Private File System, else IndexedDB, else
    /// the Cache API.
    #[default]
    Auto,
    Opfs,
    IndexedDb,
    CacheApi,
    /// Nothing is read from or written to browser storage.
    None,
}

impl StoragePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            StoragePolicy::Auto => "auto",
            StoragePolicy::Opfs => "opfs",
            StoragePolicy::IndexedDb => "idb",
            StoragePolicy::CacheApi => "cache",
            StoragePolicy::None => "none",
        }
    }
}

impl std::str::FromStr for StoragePolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(StoragePolicy::Auto),
            "opfs" => Ok(StoragePolicy::Opfs),
            "idb" => Ok(StoragePolicy::IndexedDb),
            "cache" => Ok(StoragePolicy::CacheApi),
            "none" => Ok(StoragePolicy::None),
            other => Err(format!("unknown storage `{other}`: use auto, opfs, idb, cache or none")),
        }
    }
}

/// The browser store an entry lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Store {
    Opfs,
    IndexedDb,
    CacheApi,
}

impl Store {
    /// The `data-store` hook of a stored-model row.
    pub fn as_str(self) -> &'static str {
        match self {
            Store::Opfs => "opfs",
            Store::IndexedDb => "idb",
            Store::CacheApi => "cache",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadRequest {
    pub source: ModelSource,
    pub quant: Quantization,
    #[serde(default)]
    pub storage: StoragePolicy,
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Download and convert a model; drops the current one and any turn in progress.
    Load(LoadRequest),
    /// One user turn. The history (all ids so far) belongs to the page and comes with every
    /// turn; the worker's session keeps its KV cache for the shared prefix.
    Chat { turn: u64, text: String, history: Vec<u32>, config: GenerationConfig },
    /// Stop the reply of `turn` where it is (the Stop button).
    Cancel { turn: u64 },
    /// Abandon the download in progress (the page's Cancel button); nothing is cached.
    CancelLoad,
    /// Ask for the models kept in browser storage; answered by [`FromWorker::Cached`].
    ListStored,
    /// Forget one stored model (by [`StoredModel::key`]); answered by [`FromWorker::Cached`].
    DeleteStored { key: String },
    /// How much a model downloads and how much it keeps per quantization, before loading it;
    /// answered by [`FromWorker::Sizes`].
    Sizes { source: ModelSource },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    Downloading,
    /// All bytes are in; building the model from the converted tensors.
    Converting,
    /// Reading the converted model kept by an earlier load (browser storage).
    FromStorage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub stage: Stage,
    /// The file being downloaded, e.g. `pytorch_model.bin`.
    pub file: String,
    pub file_done: u64,
    /// From `Content-Length`; `None` when the server did not say.
    pub file_total: Option<u64>,
    /// Over all files of the model.
    pub done: u64,
    pub total: Option<u64>,
}

/// A step of loading a model. Steps that overlap in time (a download converted while it
/// arrives) each count only their own work; waiting for the network or the disk counts as
/// `Download` or `Read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadStep {
    /// Asking the server whether a stored model is still the current one (HEAD).
    Check,
    /// Finding the stored entry and opening it.
    Open,
    /// Waiting for stored bytes.
    Read,
    /// Checksumming bytes (a stored body, or a download against the Hub's SHA-256).
    Verify,
    /// Waiting for the network: headers and body.
    Download,
    /// Bytes into tensors: parsing, copying, quantizing a checkpoint.
    Convert,
    /// The model and its session from the tensors.
    Build,
}

impl LoadStep {
    pub fn as_str(self) -> &'static str {
        match self {
            LoadStep::Check => "check",
            LoadStep::Open => "open",
            LoadStep::Read => "read",
            LoadStep::Verify => "verify",
            LoadStep::Download => "download",
            LoadStep::Convert => "convert",
            LoadStep::Build => "build",
        }
    }
}

/// Milliseconds spent in one step of a load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepTime {
    pub step: LoadStep,
    pub ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// What the user asked for (repo id or URL).
    pub name: String,
    /// The context window: the meter shows `history / n_positions`.
    pub n_positions: usize,
    /// e.g. `q8_0` or `q4_k+q6_k`.
    pub weight_types: String,
    pub n_layer: usize,
    pub n_embd: usize,
    pub load_ms: f64,
    /// Where `load_ms` went, step by step.
    #[serde(default)]
    pub steps: Vec<StepTime>,
    /// The browser store it was read from, instead of downloaded.
    #[serde(default)]
    pub read_from: Option<Store>,
    /// Size of the worker's wasm memory once the model is built.
    #[serde(default)]
    pub memory_bytes: Option<f64>,
    /// Threads that compute the model's steps (the worker and its compute threads).
    #[serde(default = "one_thread")]
    pub threads: usize,
    /// The model was downloaded and is now written to storage ([`FromWorker::Keeping`] follows).
    #[serde(default)]
    pub keeping: bool,
}

fn one_thread() -> usize {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnDone {
    pub turn: u64,
    /// The whole reply (authoritative: replaces the streamed pieces).
    pub text: String,
    /// The history to send back with the next turn.
    pub history: Vec<u32>,
    pub stop: StopReason,
    pub stats: TurnStats,
    pub elapsed_ms: f64,
    /// From the turn's start to its first generated token (prompt processing included).
    #[serde(default)]
    pub first_token_ms: Option<f64>,
    /// Size of the worker's wasm memory after the turn (it only grows): for memory checks.
    #[serde(default)]
    pub memory_bytes: Option<f64>,
}

/// One converted model kept in browser storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredModel {
    pub key: String,
    /// The source as the user gave it (repo id or URL).
    pub label: String,
    /// `q8_0`, `q4_k`, ... or `gguf` for a `.gguf` file kept as downloaded.
    pub quant: String,
    pub bytes: u64,
    /// When it was stored (ms since the epoch).
    pub stored_ms: f64,
    pub store: Store,
}

/// What a model costs before it is loaded: bytes downloaded, and bytes kept in browser storage
/// for each quantization (`None` where it cannot be known beforehand).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSizes {
    /// The source the sizes are for (the page may have moved on to another one).
    pub source: ModelSource,
    pub download: Option<u64>,
    pub stored: Vec<(Quantization, Option<u64>)>,
    /// Why the sizes are unknown, e.g. the server could not be reached.
    pub error: Option<String>,
}

/// What browser storage holds, with the origin's usage and quota when the browser says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredListing {
    pub models: Vec<StoredModel>,
    pub usage: Option<f64>,
    pub quota: Option<f64>,
    /// Why the list could not be read (e.g. no storage in this browsing mode).
    pub error: Option<String>,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    Progress(Progress),
    Ready(ModelInfo),
    /// Something the user should know that did not stop the load (e.g. the cache is full).
    Notice(String),
    /// Loading failed; the message is meant for the user.
    LoadError(String),
    /// `done` of `total` prompt tokens of `turn` processed (long prompts go in several steps).
    Prefill { turn: u64, done: usize, total: usize },
    /// Text completed by the next token of `turn` (may be empty mid-character).
    Token { turn: u64, text: String },
    Done(TurnDone),
    TurnError { turn: u64, message: String },
    /// The worker panicked and is unusable; the page must start a new one.
    Crashed(String),
    /// The stored models (after ListStored, DeleteStored, or a load that stored one).
    Stored(StoredListing),
    /// How keeping the model just downloaded on this device goes (it is written after Ready).
    Keeping(KeepState),
    Sizes(ModelSizes),
}
