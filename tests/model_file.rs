//! A built model writes the GGUF file it came from, a slice at a time (what the browser keeps
//! of a downloaded model while it already answers): the same bytes, and a file that answers the same.

mod common;
use common::*;
use dialogpt_web::engine::model_file::ModelFile;
use dialogpt_web::engine::{ChatSession, Quantization};

/// The file a built model writes of itself, in slices of `slice` bytes.
fn model_file_in_slices(session: &ChatSession, quant: Quantization, slice: usize) -> Vec<u8> {
    let mut file = ModelFile::new(session, "tiny", quant).unwrap();
    let mut out = Vec::new();
    while !file.is_complete() {
        let before = file.written();
        file.write_next(session, &mut out, slice).unwrap();
        assert!(file.written() > before, "a slice of {slice} wrote nothing");
        assert_eq!(out.len() as u64, file.written());
    }
    assert_eq!(out.len() as u64, file.total());
    out
}

#[test]
fn a_built_model_writes_the_gguf_it_was_built_from() {
    // What the browser keeps of a downloaded model is written from the running model: it must
    // be the very file the weights would have given before the build.
    for quant in [Quantization::Q8_0, Quantization::Q4K, Quantization::F32] {
        let gguf = load_checkpoint("tiny-dialogpt/pytorch_model.bin", quant).to_gguf("tiny").unwrap();
        let session = load_chunked(None, quant, &gguf, 65_536).into_session().unwrap();
        // Slices that end inside the header, inside tensors, inside padding, and the whole file.
        for slice in [7, 1000, 4096, usize::MAX] {
            assert!(model_file_in_slices(&session, quant, slice) == gguf, "{quant} in slices of {slice}");
        }
    }
}

#[test]
fn a_model_built_from_llama_cpp_gguf_writes_a_file_that_answers_the_same() {
    let prompt = [15496u32, 11, 703, 389, 345, 30];
    let bytes = read(fixtures().join("tiny-variants/model-q8_0.gguf"));
    let session = load_chunked(None, Quantization::Q8_0, &bytes, 4096).into_session().unwrap();
    let written = model_file_in_slices(&session, session.model().quantization(), 1 << 20);
    let reread = load_chunked(None, Quantization::Q8_0, &written, 4096);
    assert_eq!(reread.tokenizer.encode("Hello, world! 😀").unwrap(), session.tokenizer().encode("Hello, world! 😀").unwrap());
    assert_eq!(logits(load_chunked(None, Quantization::Q8_0, &written, 4096), &prompt), logits(load_chunked(None, Quantization::Q8_0, &bytes, 4096), &prompt));
}
