//! llama.cpp's split GGUF: shards written here hold every tensor once, within the size limit,
//! and load back to the same weights as the single file; shards written by llama.cpp's own
//! Python writer (gguf-py, the code behind `convert_hf_to_gguf.py --split-max-size`) load
//! here, and so do those of llama.cpp's `llama-gguf-split`; shards that do not make one model
//! are refused with the shard named.

mod common;
use common::*;
use dialogpt_web::engine::weights::gguf_split::{ShardName, SPLIT_COUNT, SPLIT_NO, SPLIT_TENSORS_COUNT};
use dialogpt_web::engine::{EngineError, LoadedModel, ModelLoader, Quantization};
use std::io::Cursor;

/// The tiny fixture quantized, split into shards of at most `max` bytes, in memory.
fn shards(quant: Quantization, max: u64) -> (LoadedModel, Vec<Vec<u8>>) {
    let loaded = load_checkpoint("tiny-dialogpt/pytorch_model.bin", quant);
    let bytes = write_shards(&loaded, max);
    (loaded, bytes)
}

/// Every shard's bytes, written through `LoadedModel::write_gguf_shards`.
fn write_shards(loaded: &LoadedModel, max: u64) -> Vec<Vec<u8>> {
    let out = std::rc::Rc::new(std::cell::RefCell::new(Vec::<Vec<u8>>::new()));
    struct Shard(std::rc::Rc<std::cell::RefCell<Vec<Vec<u8>>>>, Cursor<Vec<u8>>);
    impl std::io::Write for Shard {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.1.write(b)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl std::io::Seek for Shard {
        fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
            self.1.seek(to)
        }
    }
    impl Drop for Shard {
        fn drop(&mut self) {
            self.0.borrow_mut().push(std::mem::take(self.1.get_mut()));
        }
    }
    let sink = out.clone();
    let n = loaded.write_gguf_shards("tiny", max, move |_, _| Ok(Shard(sink.clone(), Cursor::new(Vec::new())))).unwrap();
    let files = out.borrow().clone();
    assert_eq!(files.len(), n);
    files
}

/// Loads shards in the order given, in odd-sized chunks.
fn load_shards(files: &[Vec<u8>]) -> Result<LoadedModel, EngineError> {
    let mut loader = ModelLoader::new(None, Quantization::Q8_0);
    for (i, f) in files.iter().enumerate() {
        if i > 0 {
            loader.next_shard()?;
        }
        for c in f.chunks(9_973) {
            loader.push(c)?;
        }
    }
    loader.finish()
}

fn same_model(a: &LoadedModel, b: &LoadedModel) {
    assert_eq!(a.config, b.config);
    assert_eq!(a.tokenizer.tokens(), b.tokenizer.tokens());
    assert_eq!(names(&a.store), names(&b.store));
    for n in names(&a.store) {
        let (x, y) = (a.store.get(&n).unwrap(), b.store.get(&n).unwrap());
        assert_eq!(x.dtype(), y.dtype(), "{n}");
        assert_eq!(x.data().unwrap(), y.data().unwrap(), "{n}");
    }
}

/// Each shard's tensor sizes (data bytes), from its header.
fn tensor_sizes(shard: &[u8]) -> Vec<u64> {
    let c = candle_core::quantized::gguf_file::Content::read(&mut Cursor::new(shard)).unwrap();
    c.tensor_infos
        .values()
        .map(|t| (t.shape.elem_count() / t.ggml_dtype.block_size() * t.ggml_dtype.type_size()) as u64)
        .collect()
}

/// The first shard's size when it holds the metadata alone (every tensor in a shard of its own).
fn metadata_bytes(quant: Quantization) -> u64 {
    let (_, files) = shards(quant, 1);
    assert!(tensor_sizes(&files[0]).is_empty());
    files[0].len() as u64
}

#[test]
fn shards_stay_within_the_limit_and_load_back_to_the_same_model() {
    for quant in [Quantization::Q8_0, Quantization::Q4K, Quantization::F32] {
        let meta = metadata_bytes(quant);
        // Every tensor alone (29 shards), then a limit just above the metadata (the 2 MB
        // tokenizer), then one the whole model fits in.
        for max in [1, meta + 20_000, 1 << 30] {
            let (loaded, files) = shards(quant, max);
            for (i, f) in files.iter().enumerate() {
                let tensors = tensor_sizes(f);
                let alone = tensors.len() == 1 && tensors[0] > max || (i == 0 && tensors.is_empty() && meta > max);
                assert!(f.len() as u64 <= max || alone, "{quant} max {max}: shard {} is {} bytes ({tensors:?})", i + 1, f.len());
            }
            same_model(&loaded, &load_shards(&files).unwrap());
            if max == 1 {
                assert_eq!(files.len(), 1 + loaded.store.len(), "{quant}: metadata, then one shard per tensor");
            }
            if max == meta + 20_000 {
                assert!(files.len() >= 2 && tensor_sizes(&files[0]).is_empty(), "{quant}: the metadata alone first");
            }
            if max == 1 << 30 {
                assert_eq!(files.len(), 1);
            }
        }
    }
}

#[test]
fn shards_that_do_not_make_one_model_are_refused_with_the_shard_named() {
    let (_, files) = shards(Quantization::Q8_0, 1);
    let n = files.len();
    let message = |files: &[Vec<u8>]| load_shards(files).err().expect("refused").to_string();

    let e = message(&files[..n - 1]);
    assert!(e.contains(&format!("shard {} of {n}", n - 1)) && e.contains("other shards are needed"), "{e}");

    let mut swapped = files.clone();
    swapped.swap(1, 2);
    let e = message(&swapped);
    assert!(e.contains(&format!("should be shard 2 of {n} but is shard 3 of {n}")), "{e}");

    // A shard of the same model split another way.
    let (_, other) = shards(Quantization::Q8_0, metadata_bytes(Quantization::Q8_0) + 20_000);
    assert_ne!(other.len(), n);
    let mut mixed = files.clone();
    mixed[1] = other[1].clone();
    let e = message(&mixed);
    assert!(e.contains(&format!("should be shard 2 of {n} but is shard 2 of {}", other.len())), "{e}");

    // The same split of another quantization: the shard's numbers fit, the model does not.
    let (_, f32) = shards(Quantization::F32, 1);
    assert_eq!(f32.len(), n);
    let mut foreign = files.clone();
    foreign[3] = f32[3].clone();
    let e = message(&foreign);
    assert!(e.starts_with(&format!("shard 4 of {n}")) && e.contains("another model"), "{e}");

    let mut extra = files.clone();
    extra.push(files[1].clone());
    let e = message(&extra);
    assert!(e.contains(&format!("more files than the {n} shards")), "{e}");

    // The first shard alone, as a single file.
    let e = message(&files[..1]);
    assert!(e.contains(&format!("shard 1 of {n}")), "{e}");
}

#[test]
fn a_tensor_from_an_earlier_shard_is_refused() {
    let (_, files) = shards(Quantization::Q8_0, 1);
    let n = files.len();
    // Shard 2's bytes with shard 3's split number: every tensor in it repeats shard 2's.
    let mut twice = files.clone();
    twice[2] = relabel(&files[1], 2);
    let e = load_shards(&twice[..]).err().expect("refused").to_string();
    assert!(e.starts_with(&format!("shard 3 of {n}")) && e.contains("belongs to another model"), "{e}");
}

/// `shard` with its `split.no` set to `no` (0-based): the u16 value after the key.
fn relabel(shard: &[u8], no: u16) -> Vec<u8> {
    set_u16(shard, SPLIT_NO, no)
}

fn set_u16(shard: &[u8], key: &str, value: u16) -> Vec<u8> {
    let key = key.as_bytes();
    let at = shard.windows(key.len()).position(|w| w == key).expect("split.no present") + key.len();
    // Then the value type (u32, 2 = u16) and the value.
    assert_eq!(u32::from_le_bytes(shard[at..at + 4].try_into().unwrap()), 2);
    let mut out = shard.to_vec();
    out[at + 4..at + 6].copy_from_slice(&value.to_le_bytes());
    out
}

#[test]
fn every_shard_carries_llama_cpp_split_keys() {
    let (_, files) = shards(Quantization::Q8_0, 1);
    for (i, f) in files.iter().enumerate() {
        let c = candle_core::quantized::gguf_file::Content::read(&mut Cursor::new(f)).unwrap();
        use candle_core::quantized::gguf_file::Value;
        assert!(matches!(c.metadata[SPLIT_NO], Value::U16(n) if n as usize == i));
        assert!(matches!(c.metadata[SPLIT_COUNT], Value::U16(n) if n as usize == files.len()));
        assert!(matches!(c.metadata[SPLIT_TENSORS_COUNT], Value::I32(_)));
        // The model's metadata (and its 2 MB tokenizer) is in the first shard only.
        assert_eq!(c.metadata.contains_key("tokenizer.ggml.tokens"), i == 0);
    }
}

/// The shards in `dir` named `first` and on, loaded, against the single file they were split from.
fn assert_loads_like_the_single_file(dir: &str, first: &str) {
    let first = fixtures().join(dir).join(first);
    let name = ShardName::parse(first.to_str().unwrap()).unwrap();
    let files: Vec<Vec<u8>> = name.all().iter().map(read).collect();
    let split = load_shards(&files).unwrap();
    let single = LoadedModel::from_bytes(None, Quantization::Q8_0, &read(fixtures().join("tiny-variants/model-q8_0.gguf"))).unwrap();
    same_model(&single, &split);
}

#[test]
fn shards_written_by_gguf_py_load_here() {
    assert_loads_like_the_single_file("split-gguf-py", "tiny-q8_0-00001-of-00003.gguf");
}

#[test]
fn shards_written_by_llama_cpp_gguf_split_load_here() {
    // The first shard holds the metadata and 27 tensors, the second `token_embd.weight` alone.
    assert_loads_like_the_single_file("split-llama-cpp", "tiny-q8_0-00001-of-00002.gguf");
}
