//! Reading a PyTorch state dict out of its pickle: which tensor lives in which storage.
//!
//! Both PyTorch formats (the legacy stacked file and the zip archive) pickle the state dict
//! the same way: each tensor is `_rebuild_tensor_v2(storage, offset, size, stride, ...)`,
//! where `storage` is a persistent id `('storage', torch.HalfStorage, key, location, numel)`.
//! candle's pickle `Stack` does the unpickling; this module interprets the result.

use super::FloatDtype;
use crate::engine::error::{EngineError, Result};
use candle_core::pickle::{Object, Stack};
use std::io::Cursor;

/// One storage as the pickle declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageDecl {
    pub key: String,
    /// `None` for integer and bool storages (mask buffers).
    pub dtype: Option<FloatDtype>,
    pub elem_size: usize,
}

/// One tensor of the state dict: a contiguous view into a storage.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRef {
    pub name: String,
    pub storage: StorageDecl,
    /// Offset into the storage, in elements.
    pub offset: usize,
    pub shape: Vec<usize>,
}

impl TensorRef {
    pub fn elem_count(&self) -> usize {
        self.shape.iter().product()
    }
    /// Byte range of this tensor inside its storage.
    pub fn byte_range(&self) -> std::ops::Range<usize> {
        let start = self.offset * self.storage.elem_size;
        start..start + self.elem_count() * self.storage.elem_size
    }
}

/// Outcome of trying to unpickle from a buffer that may not hold the whole pickle yet.
pub enum Unpickled {
    Done { object: Object, consumed: usize },
    NeedMore,
}

/// Unpickles one object from the front of `buf`, telling "not all here yet" apart from
/// "not a pickle" by whether the parser ran off the end of the buffer.
pub fn unpickle_prefix(buf: &[u8]) -> Result<Unpickled> {
    let mut cursor = Cursor::new(buf);
    let mut stack = Stack::empty();
    match stack.read_loop(&mut cursor) {
        Ok(()) => {
            let consumed = cursor.position() as usize;
            let object = stack
                .finalize()
                .map_err(|e| EngineError::Corrupt(format!("empty pickle: {e}")))?;
            Ok(Unpickled::Done { object, consumed })
        }
        Err(_) if cursor.position() as usize >= buf.len() => Ok(Unpickled::NeedMore),
        Err(e) => Err(EngineError::Corrupt(format!("bad pickle data: {e}"))),
    }
}

fn storage_from_class(class_name: &str) -> (Option<FloatDtype>, usize) {
    match class_name {
        "FloatStorage" => (Some(FloatDtype::F32), 4),
        "HalfStorage" => (Some(FloatDtype::F16), 2),
        "BFloat16Storage" => (Some(FloatDtype::BF16), 2),
        "DoubleStorage" => (Some(FloatDtype::F64), 8),
        "LongStorage" => (None, 8),
        "IntStorage" => (None, 4),
        "ShortStorage" => (None, 2),
        _ => (None, 1), // Byte, Char, Bool
    }
}

fn as_usize(o: &Object) -> Option<usize> {
    match o {
        Object::Int(v) if *v >= 0 => Some(*v as usize),
        Object::Long(v) if *v >= 0 => Some(*v as usize),
        _ => None,
    }
}

fn as_usizes(o: &Object) -> Option<Vec<usize>> {
    match o {
        Object::Tuple(v) | Object::List(v) => v.iter().map(as_usize).collect(),
        _ => None,
    }
}

fn parse_storage(o: &Object) -> Option<StorageDecl> {
    let Object::PersistentLoad(id) = o else { return None };
    let Object::Tuple(parts) = id.as_ref() else { return None };
    match parts.as_slice() {
        [Object::Unicode(kind), Object::Class { class_name, .. }, Object::Unicode(key), ..] if kind == "storage" => {
            let (dtype, elem_size) = storage_from_class(class_name);
            Some(StorageDecl { key: key.clone(), dtype, elem_size })
        }
        _ => None,
    }
}

/// Interprets `_rebuild_tensor_v2(storage, offset, size, stride, ...)` (and the older
/// `_rebuild_tensor`). Non-contiguous views are refused: no GPT-2 checkpoint has them.
fn parse_tensor(name: &str, o: &Object) -> Result<Option<TensorRef>> {
    let Object::Reduce { callable, args } = o else { return Ok(None) };
    let Object::Class { class_name, .. } = callable.as_ref() else { return Ok(None) };
    if class_name != "_rebuild_tensor_v2" && class_name != "_rebuild_tensor" {
        return Ok(None);
    }
    let Object::Tuple(args) = args.as_ref() else { return Ok(None) };
    let bad = || EngineError::Corrupt(format!("cannot read the layout of tensor `{name}`"));
    if args.len() < 4 {
        return Err(bad());
    }
    let storage = parse_storage(&args[0]).ok_or_else(bad)?;
    let offset = as_usize(&args[1]).ok_or_else(bad)?;
    let shape = as_usizes(&args[2]).ok_or_else(bad)?;
    let stride = as_usizes(&args[3]).ok_or_else(bad)?;
    let mut expected = 1;
    for (dim, st) in shape.iter().zip(stride.iter()).rev() {
        if *dim > 1 && *st != expected {
            return Err(EngineError::UnsupportedFormat(format!(
                "tensor `{name}` is a non-contiguous view (shape {shape:?}, stride {stride:?})"
            )));
        }
        expected *= dim;
    }
    Ok(Some(TensorRef { name: name.to_string(), storage, offset, shape }))
}

/// Lists the tensors of an unpickled state dict, in pickle order. Accepts a bare state dict
/// or one nested under a single key (`{"state_dict": ...}`, `{"model": ...}`).
pub fn state_dict_tensors(object: &Object) -> Result<Vec<TensorRef>> {
    let entries = match object {
        Object::Dict(entries) => entries,
        Object::Build { callable, .. } => match callable.as_ref() {
            Object::Dict(entries) => entries,
            _ => return Err(EngineError::UnsupportedFormat("the pickle holds no state dict".into())),
        },
        _ => return Err(EngineError::UnsupportedFormat("the pickle holds no state dict".into())),
    };
    let mut tensors = Vec::new();
    for (key, value) in entries {
        let Object::Unicode(name) = key else { continue };
        if let Some(t) = parse_tensor(name, value)? {
            tensors.push(t);
        }
    }
    if tensors.is_empty() {
        // A checkpoint wrapping the state dict one level down.
        for (_, value) in entries {
            if let Object::Dict(_) = value {
                let inner = state_dict_tensors(value)?;
                if !inner.is_empty() {
                    return Ok(inner);
                }
            }
        }
        return Err(EngineError::UnsupportedFormat("the pickle holds no tensors".into()));
    }
    Ok(tensors)
}
