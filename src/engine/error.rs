//! One error type for the whole engine, with messages meant for the end user.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    #[error("unsupported weight file: {0}")]
    UnsupportedFormat(String),
    #[error("the weight file is damaged or truncated: {0}")]
    Corrupt(String),
    #[error("missing tensor `{0}` in the weight file")]
    MissingTensor(String),
    #[error("tensor `{name}` has shape {got:?}, expected {expected:?}")]
    ShapeMismatch { name: String, got: Vec<usize>, expected: Vec<usize> },
    #[error("bad model configuration: {0}")]
    Config(String),
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    #[error("{0}")]
    InvalidInput(String),
    /// A split GGUF whose shards do not make one model.
    #[error("{0}")]
    Shard(String),
    #[error("the download ended early: {0}")]
    Incomplete(String),
    #[error("out of memory: {0}; try a smaller model or q4_k")]
    OutOfMemory(String),
    #[error("tensor computation failed: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, EngineError>;
