//! The message list: one bubble per message, `data-author="user"|"bot"` and `data-state`
//! on each (hooks for tests and styling). Scrolls to the newest text as a reply streams.

use super::conversation::{Author, BubbleState, ChatMessage};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    pub messages: Vec<ChatMessage>,
}

fn bubble(m: &ChatMessage) -> Html {
    let author = m.author.as_str();
    let who = if m.author == Author::User { "You:" } else { "Bot:" };
    // Replies start with the space of their first token; it is not meant to show.
    let text = if m.author == Author::Bot { m.text.trim_start() } else { m.text.as_str() };
    html! {
        <div class={classes!("msg", author)} data-author={author} data-state={m.state.as_str()}>
            <span class="sr-only">{ who }</span>
            <p class="text">{ text.to_string() }</p>
            if m.state == BubbleState::Streaming && text.is_empty() {
                <span class="typing" aria-hidden="true">{ "…" }</span>
            }
            if m.state == BubbleState::Stopped {
                <span class="note">{ "stopped" }</span>
            }
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
            if props.messages.is_empty() {
                <p class="empty">{ "No messages yet. Load a model, then say hello." }</p>
            }
            { for props.messages.iter().map(bubble) }
        </section>
    }
}
