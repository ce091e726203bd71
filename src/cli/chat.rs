//! `dialogpt chat`: interactive terminal chat, or a scripted run printing JSON per turn.

use super::model_files::load_model;
use super::ChatArgs;
use crate::engine::{ChatSession, EngineError, Result};
use std::io::{BufRead, Write};

pub fn run(args: ChatArgs) -> Result<()> {
    let config = args.sampling.config();
    config.validate()?;
    let loaded = load_model(&args.model.resolve()?, args.model.quant)?;
    let mut session = loaded.into_session()?;
    match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| EngineError::InvalidInput(format!("cannot read {}: {e}", path.display())))?;
            scripted(&mut session, &text, &config, args.json)
        }
        None => interactive(&mut session, &config),
    }
}

fn scripted(session: &mut ChatSession, script: &str, config: &crate::engine::GenerationConfig, json: bool) -> Result<()> {
    let mut history = Vec::new();
    let mut out = std::io::stdout().lock();
    let mut turn = 0;
    for line in script.lines() {
        if line.trim().is_empty() {
            continue;
        }
        turn += 1;
        let reply = session.predict(line, &history, config)?;
        if json {
            let obj = serde_json::json!({
                "turn": turn,
                "input_ids": reply.input_ids,
                "reply_ids": reply.reply_ids,
                "reply": reply.text,
            });
            writeln!(out, "{obj}")?;
        } else {
            writeln!(out, "User: {line}\nBot: {}", reply.text)?;
        }
        history = reply.history;
    }
    Ok(())
}

fn interactive(session: &mut ChatSession, config: &crate::engine::GenerationConfig) -> Result<()> {
    let cfg = session.model().config().clone();
    eprintln!(
        "DialoGPT ({} layers, {} weights). Type a message; /new starts over, /quit or Ctrl-D leaves.",
        cfg.n_layer,
        session.model().weight_type_label()
    );
    let mut history: Vec<u32> = Vec::new();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    loop {
        write!(out, "You: ")?;
        out.flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            writeln!(out)?;
            return Ok(());
        }
        let line = line.trim_end_matches(['\n', '\r']);
        match line.trim() {
            "/quit" | "/exit" => return Ok(()),
            "/new" => {
                history.clear();
                eprintln!("(new conversation)");
                continue;
            }
            "" => {
                eprintln!("(empty message not sent)");
                continue;
            }
            _ => {}
        }
        write!(out, "Bot: ")?;
        let reply = session.predict_streaming(line, &history, config, |_, piece| {
            let _ = write!(out, "{piece}");
            let _ = out.flush();
            true
        })?;
        if reply.text.trim().is_empty() {
            write!(out, "(ended its turn without words)")?;
        }
        writeln!(out)?;
        if reply.stats.dropped_tokens > 0 {
            eprintln!("(the oldest {} tokens were dropped to fit the context)", reply.stats.dropped_tokens);
        }
        // While the user reads and types: the reply's last token goes into the cache now,
        // not at the start of the next turn.
        if let Err(e) = session.settle(&reply.history) {
            eprintln!("(could not extend the cache: {e}; the next turn rereads the conversation)");
        }
        history = reply.history;
    }
}
