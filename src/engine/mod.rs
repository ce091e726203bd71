//! The engine: everything that runs the model, with no web dependencies. It builds for
//! native targets (tests, the CLI) and for wasm32 (the browser worker).

pub mod config;
pub mod context;
pub mod error;
pub mod gguf_encode;
pub mod gguf_meta;
pub mod gguf_write;
pub mod kernels;
pub mod loader;
pub mod model;
pub mod model_file;
pub mod q8_0_quantizer;
pub mod quantize;
pub mod sampling;
pub mod session;
pub mod stored_size;
pub mod stream_decode;
pub mod tokenizer;
pub mod turn;
pub mod weights;

pub use config::{Gpt2Config, EOS_TOKEN_ID};
pub use error::{EngineError, Result};
pub use loader::{HubFiles, HubParts, LoadedModel, ModelLoader};
pub use quantize::Quantization;
pub use sampling::GenerationConfig;
pub use session::ChatSession;
pub use turn::{Reply, Step, StopReason, Turn, TurnStats};
pub use tokenizer::Gpt2Tokenizer;
