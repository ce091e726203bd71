//! GGUF's binary layout, written by us: metadata values, the tensor table and the aligned
//! tensor data. candle reads GGUF for us, but its writer takes candle tensors only; ours
//! writes each tensor from its bytes wherever they live (the model store keeps most GGUF
//! tensors as the bytes that arrived), and builds the whole header in memory first, so a
//! store's writer gets a few large writes instead of one per tokenizer string.

use super::error::{EngineError, Result};
use candle_core::quantized::gguf_file::Value;
use candle_core::quantized::GgmlDType;
use std::borrow::Cow;
use std::io::Write;

/// Tensor data starts and each tensor's data is padded to this many bytes.
pub const ALIGNMENT: usize = 32;
const MAGIC: &[u8; 4] = b"GGUF";
/// What candle reads and what llama.cpp reads; version 3 only adds big-endian files.
const VERSION: u32 = 2;

/// One tensor to write: what the table says and where its bytes are.
pub struct TensorOut<'a> {
    pub name: &'a str,
    pub dtype: GgmlDType,
    /// Row-major (candle's order); GGUF lists them innermost first.
    pub dims: &'a [usize],
    pub bytes: Cow<'a, [u8]>,
}

fn type_id(v: &Value) -> u32 {
    match v {
        Value::U8(_) => 0,
        Value::I8(_) => 1,
        Value::U16(_) => 2,
        Value::I16(_) => 3,
        Value::U32(_) => 4,
        Value::I32(_) => 5,
        Value::F32(_) => 6,
        Value::Bool(_) => 7,
        Value::String(_) => 8,
        Value::Array(_) => 9,
        Value::U64(_) => 10,
        Value::I64(_) => 11,
        Value::F64(_) => 12,
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &Value) -> Result<()> {
    match v {
        Value::U8(x) => out.push(*x),
        Value::I8(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::U16(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::I16(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::Bool(x) => out.push(u8::from(*x)),
        Value::String(s) => put_str(out, s),
        Value::Array(items) => {
            // An empty array's element type is never read; u32 as llama.cpp's tools write it.
            let elem = items.first().map_or(4, type_id);
            if items.iter().any(|i| type_id(i) != elem) {
                return Err(EngineError::Config("a GGUF array must hold values of one type".into()));
            }
            out.extend_from_slice(&elem.to_le_bytes());
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for i in items {
                put_value(out, i)?;
            }
        }
    }
    Ok(())
}

fn padding(n: usize) -> usize {
    n.next_multiple_of(ALIGNMENT) - n
}

/// Everything before the tensor data: magic, counts, metadata, tensor table, padding.
pub fn header(metadata: &[(String, Value)], tensors: &[TensorOut]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(4 << 20);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    out.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        put_str(&mut out, key);
        out.extend_from_slice(&type_id(value).to_le_bytes());
        put_value(&mut out, value)?;
    }
    let mut offset = 0usize;
    for t in tensors {
        put_str(&mut out, t.name);
        out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
        for &d in t.dims.iter().rev() {
            out.extend_from_slice(&(d as u64).to_le_bytes());
        }
        out.extend_from_slice(&ggml_type_id(t.dtype).to_le_bytes());
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        offset += t.bytes.len() + padding(t.bytes.len());
    }
    out.resize(out.len() + padding(out.len()), 0);
    Ok(out)
}

/// A whole GGUF file: the header, then every tensor's bytes, aligned.
pub fn write_file<W: Write>(out: &mut W, metadata: &[(String, Value)], tensors: &[TensorOut]) -> Result<()> {
    out.write_all(&header(metadata, tensors)?)?;
    let zeros = [0u8; ALIGNMENT];
    for t in tensors {
        out.write_all(&t.bytes)?;
        out.write_all(&zeros[..padding(t.bytes.len())])?;
    }
    Ok(())
}

/// GGML's number for a block type in the tensor table.
fn ggml_type_id(dtype: GgmlDType) -> u32 {
    match dtype {
        GgmlDType::F32 => 0,
        GgmlDType::F16 => 1,
        GgmlDType::Q4_0 => 2,
        GgmlDType::Q4_1 => 3,
        GgmlDType::Q5_0 => 6,
        GgmlDType::Q5_1 => 7,
        GgmlDType::Q8_0 => 8,
        GgmlDType::Q8_1 => 9,
        GgmlDType::Q2K => 10,
        GgmlDType::Q3K => 11,
        GgmlDType::Q4K => 12,
        GgmlDType::Q5K => 13,
        GgmlDType::Q6K => 14,
        GgmlDType::Q8K => 15,
        GgmlDType::BF16 => 30,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{gguf_file, QTensor};
    use candle_core::{Device, Tensor};

    /// candle's own writer is the oracle: the same metadata and tensors give the same bytes,
    /// and candle reads ours back.
    #[test]
    fn writes_what_candles_writer_writes() {
        let metadata: Vec<(String, Value)> = vec![
            ("general.architecture".into(), Value::String("gpt2".into())),
            ("a.u8".into(), Value::U8(7)),
            ("a.i8".into(), Value::I8(-7)),
            ("a.u16".into(), Value::U16(65000)),
            ("a.i16".into(), Value::I16(-300)),
            ("a.u32".into(), Value::U32(1024)),
            ("a.i32".into(), Value::I32(-5)),
            ("a.u64".into(), Value::U64(1 << 40)),
            ("a.i64".into(), Value::I64(-(1 << 40))),
            ("a.f32".into(), Value::F32(1e-5)),
            ("a.f64".into(), Value::F64(0.25)),
            ("a.bool".into(), Value::Bool(true)),
            ("a.strings".into(), Value::Array(vec![Value::String("Ġhello".into()), Value::String("😀".into())])),
            ("a.ints".into(), Value::Array(vec![Value::I32(1), Value::I32(3)])),
            ("a.empty".into(), Value::Array(vec![])),
        ];
        let dev = Device::Cpu;
        let w = Tensor::arange(0f32, 64.0 * 3.0, &dev).unwrap().reshape((3, 64)).unwrap();
        let q = QTensor::quantize(&w, GgmlDType::Q8_0).unwrap();
        let b = QTensor::quantize(&Tensor::new(&[0.5f32, -1.0, 2.0], &dev).unwrap(), GgmlDType::F32).unwrap();
        let theirs = {
            let md: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
            let mut out = std::io::Cursor::new(Vec::new());
            gguf_file::write(&mut out, &md, &[("w", &q), ("b", &b)]).unwrap();
            out.into_inner()
        };
        let tensors = [
            TensorOut { name: "w", dtype: q.dtype(), dims: q.shape().dims(), bytes: q.data().unwrap() },
            TensorOut { name: "b", dtype: b.dtype(), dims: b.shape().dims(), bytes: b.data().unwrap() },
        ];
        let mut ours = Vec::new();
        write_file(&mut ours, &metadata, &tensors).unwrap();
        assert_eq!(ours, theirs);
        let content = gguf_file::Content::read(&mut std::io::Cursor::new(&ours)).unwrap();
        assert_eq!(content.tensor_infos["w"].shape.dims(), &[3, 64]);
        assert_eq!(content.metadata["a.u64"].to_u64().unwrap(), 1 << 40);
    }

    #[test]
    fn mixed_arrays_are_refused() {
        let md = vec![("x".to_string(), Value::Array(vec![Value::U32(1), Value::String("a".into())]))];
        assert!(header(&md, &[]).is_err());
    }
}
