//! Weight files in, named tensors out.
//!
//! Every format is read by a push parser: bytes are handed over as they arrive (from a
//! `fetch` stream in the browser, from a file natively) and each tensor goes to a
//! [`TensorSink`] as soon as its last byte is in. Nothing holds more than one tensor of the
//! source file at a time, so a 3 GB checkpoint converts inside a 4 GB wasm heap.

pub mod byte_ranges;
pub mod f16_widen;
pub mod file_format;
pub mod gguf_shards;
pub mod gguf_split;
pub mod gguf_stream;
pub mod names;
pub mod pickle_tensors;
pub mod safetensors_stream;
pub mod store;
pub mod torch_legacy;
pub mod torch_zip;
pub mod transpose;

use super::error::Result;
use candle_core::quantized::QTensor;

/// Element types found in float checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatDtype {
    F32,
    F16,
    BF16,
    F64,
}

impl FloatDtype {
    pub fn size(self) -> usize {
        match self {
            FloatDtype::F32 => 4,
            FloatDtype::F16 | FloatDtype::BF16 => 2,
            FloatDtype::F64 => 8,
        }
    }

    /// Little-endian raw bytes to f32 values.
    pub fn to_f32(self, bytes: &[u8]) -> Vec<f32> {
        match self {
            FloatDtype::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            FloatDtype::F16 => f16_widen::f16_to_f32(bytes),
            FloatDtype::BF16 => bytes
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            FloatDtype::F64 => bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32)
                .collect(),
        }
    }
}

/// Where parsed tensors go. Names are as the file spells them; the sink maps them.
pub trait TensorSink {
    /// Asked once per tensor before its bytes arrive, so unwanted ones (attention mask
    /// buffers, a duplicated LM head) are skipped without being held in memory.
    fn wants(&self, name: &str) -> bool;
    /// A float tensor in row-major order, `bytes` little-endian of `dtype`.
    fn float_tensor(&mut self, name: &str, dtype: FloatDtype, shape: &[usize], bytes: &[u8]) -> Result<()>;
    /// A GGUF tensor's bytes as stored (any block type), dims in candle's row-major order.
    fn gguf_tensor(&mut self, name: &str, dtype: candle_core::quantized::GgmlDType, dims: &[usize], bytes: Vec<u8>) -> Result<()>;
}

/// A push parser for one weight file.
pub trait WeightStream {
    /// Feeds the next bytes of the file.
    fn push(&mut self, bytes: &[u8], sink: &mut dyn TensorSink) -> Result<()>;
    /// Signals the end of the file; fails if the file was cut short.
    fn finish(&mut self, sink: &mut dyn TensorSink) -> Result<()>;
}

/// An empty buffer able to hold `n` bytes, or an error (not an abort) when memory is short:
/// a 32-bit wasm heap cannot grow past 4 GB, and a damaged header can claim anything.
pub fn alloc_bytes(n: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        super::error::EngineError::OutOfMemory(format!("cannot allocate {:.0} MB for one tensor", n as f64 / 1e6))
    })?;
    Ok(v)
}

/// Whether `len` bytes are exactly a `dtype` tensor of `shape` in whole blocks.
pub fn check_block_bytes(dtype: candle_core::quantized::GgmlDType, len: usize, shape: &[usize]) -> Result<()> {
    let elems: usize = shape.iter().product();
    let expected = elems / dtype.block_size() * dtype.type_size();
    if elems % dtype.block_size() != 0 || len != expected {
        return Err(super::error::EngineError::Corrupt(format!("{dtype:?} tensor of shape {shape:?} needs {expected} bytes, got {len}")));
    }
    Ok(())
}

/// `n` zero bytes, or a clear out-of-memory error. Fresh memory from the system is already
/// zero, so this is usually no work until the bytes are written (unlike a resize).
pub fn zeroed_bytes(n: usize) -> Result<Vec<u8>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let oom = || super::error::EngineError::OutOfMemory(format!("cannot allocate {:.0} MB for one tensor", n as f64 / 1e6));
    let layout = std::alloc::Layout::array::<u8>(n).map_err(|_| oom())?;
    // SAFETY: a non-zero-sized layout of bytes; the pointer is checked, and a Vec of u8 with
    // length and capacity `n` is exactly what the global allocator returned for that layout.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout);
        if p.is_null() {
            return Err(oom());
        }
        Ok(Vec::from_raw_parts(p, n, n))
    }
}

/// Builds a candle `QTensor` from raw GGML bytes. candle reinterprets the bytes as blocks,
/// which needs them 4-byte aligned; a misaligned slice is copied first.
pub fn qtensor_from_bytes(
    dtype: candle_core::quantized::GgmlDType,
    bytes: &[u8],
    shape: &[usize],
) -> Result<QTensor> {
    check_block_bytes(dtype, bytes.len(), shape)?;
    let device = candle_core::Device::Cpu;
    if (bytes.as_ptr() as usize) % 4 == 0 {
        return Ok(candle_core::quantized::ggml_file::qtensor_from_ggml(dtype, bytes, shape.to_vec(), &device)?);
    }
    let mut words = vec![0u32; bytes.len().div_ceil(4)];
    // SAFETY: u32 storage viewed as bytes; the length stays within the allocation.
    let aligned = unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr() as *mut u8, bytes.len()) };
    aligned.copy_from_slice(bytes);
    Ok(candle_core::quantized::ggml_file::qtensor_from_ggml(dtype, aligned, shape.to_vec(), &device)?)
}
