//! The message list: one bubble per message, `data-author="user"|"bot"` and `data-state`
//! on each (hooks for tests and styling), a Copy button on each finished message, Edit on
//! the last message and Regenerate on the last reply, and the optional greeting first.
//! Scrolls to the newest text as a reply streams.

use super::conversation::{Author, BubbleState, ChatMessage};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    pub messages: Vec<ChatMessage>,
    pub greeting: Option<String>,
    /// Index of the message just copied (its button says so for a moment).
    pub copied: Option<usize>,
    /// Prompt tokens read / total while a long prompt is processed.
    pub reading: Option<(usize, usize)>,
    pub on_copy: Callback<usize>,
    /// The last exchange can be asked again or edited (nothing running, a model loaded).
    pub can_redo: bool,
    pub on_regenerate: Callback<()>,
    pub on_edit: Callback<()>,
}

/// Replies start with the space of their first token; it is not meant to show.
pub fn shown_text(m: &ChatMessage) -> &str {
    if m.author == Author::Bot {
        m.text.trim_start()
    } else {
        m.text.as_str()
    }
}

fn bubble(i: usize, m: &ChatMessage, props: &MessageListProps) -> Html {
    let author = m.author.as_str();
    let who = if m.author == Author::User { "You:" } else { "Bot:" };
    let text = shown_text(m);
    let copy = props.on_copy.reform(move |_: MouseEvent| i);
    let copied = props.copied == Some(i);
    let n = props.messages.len();
    let last_user = props.can_redo && m.author == Author::User && i + 2 == n;
    let last_bot = props.can_redo && m.author == Author::Bot && i + 1 == n;
    html! {
        <div class={classes!("msg", author)} data-author={author} data-state={m.state.as_str()}>
            <span class="sr-only">{ who }</span>
            <p class="text">{ text.to_string() }</p>
            if m.state == BubbleState::Streaming && text.is_empty() {
                <span class="typing" aria-hidden="true">{ match props.reading {
                    Some((done, total)) => format!("reading the conversation… {done} / {total} tokens"),
                    None => "…".to_string(),
                } }</span>
            }
            if m.state == BubbleState::Stopped {
                <span class="note">{ "stopped" }</span>
            }
            if m.state == BubbleState::Done && text.is_empty() {
                // DialoGPT sometimes ends its turn at once: say so rather than show a blank.
                <span class="note">{ "(an empty reply: the model ended its turn at once)" }</span>
            }
            <div class="tools">
                if m.state != BubbleState::Streaming && !text.is_empty() {
                    <button type="button" class="tool" onclick={copy} aria-label={format!("Copy message {}", i + 1)}>
                        { if copied { "Copied" } else { "Copy" } }
                    </button>
                }
                if last_user {
                    <button type="button" class="tool" onclick={props.on_edit.reform(|_: MouseEvent| ())}
                        aria-label={format!("Edit message {}", i + 1)}>{ "Edit" }</button>
                }
                if last_bot {
                    <button type="button" class="tool" onclick={props.on_regenerate.reform(|_: MouseEvent| ())}>{ "Regenerate" }</button>
                }
            </div>
        </div>
    }
}

#[component]
pub fn MessageList(props: &MessageListProps) -> Html {
    let list = use_node_ref();
    {
        let list = list.clone();
        use_effect_with(props.messages.clone(), move |_| {
            if let Some(el) = list.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    html! {
        <section class="messages" ref={list} aria-label="Conversation">
            if let Some(g) = &props.greeting {
                <div class="msg bot greeting" data-author="bot" data-state="done" data-greeting="true">
                    <span class="sr-only">{ "Bot:" }</span>
                    <p class="text">{ g.clone() }</p>
                </div>
            } else if props.messages.is_empty() {
                <p class="empty">{ "No messages yet. Load a model, then say hello." }</p>
            }
            { for props.messages.iter().enumerate().map(|(i, m)| bubble(i, m, props)) }
        </section>
    }
}
