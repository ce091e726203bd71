//! Which model to suggest for this device. Phones and tablets end a tab that takes much
//! memory (iOS Safari is reported to do so past roughly 1.5 GB), so they get the smallest
//! model at the smallest quantization; so does any device that says it has 4 GB or less.
//! Pure, tested natively; the page passes in what the browser reports.

use crate::worker::protocol::Quantization;

#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub model: &'static str,
    pub quant: Quantization,
    /// One line for the page: why this choice.
    pub why: &'static str,
}

/// A phone or tablet by its user agent; iPadOS reports a Mac, but one with a touch screen.
fn handheld(user_agent: &str, touch_points: u32) -> bool {
    ["Mobi", "Android", "iPhone", "iPad", "iPod"].iter().any(|m| user_agent.contains(m))
        || (user_agent.contains("Macintosh") && touch_points > 1)
}

/// `device_memory_gb`: `navigator.deviceMemory` where the browser has it.
pub fn suggest(user_agent: &str, device_memory_gb: Option<f64>, touch_points: u32) -> Suggestion {
    let small = |why| Suggestion { model: "microsoft/DialoGPT-small", quant: Quantization::Q4K, why };
    if handheld(user_agent, touch_points) {
        return small("Suggested for this phone or tablet: DialoGPT small at q4_k (about 0.3 GB of memory). Mobile browsers may close a tab that uses more than about 1.5 GB.");
    }
    if device_memory_gb.is_some_and(|gb| gb <= 4.0) {
        return small("Suggested for this device, which reports 4 GB of memory or less: DialoGPT small at q4_k (about 0.3 GB of memory).");
    }
    Suggestion {
        model: "microsoft/DialoGPT-medium",
        quant: Quantization::Q8_0,
        why: "Suggested for this device: DialoGPT medium at q8_0 (about 0.6 GB of memory while it runs).",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
    const IPAD: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15";
    const PIXEL: &str = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
    const DESKTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";

    #[test]
    fn phones_and_small_devices_get_small_q4_k() {
        for (ua, touch) in [(IPHONE, 5), (IPAD, 5), (PIXEL, 5)] {
            let s = suggest(ua, None, touch);
            assert_eq!((s.model, s.quant), ("microsoft/DialoGPT-small", Quantization::Q4K), "{ua}");
            assert!(s.why.contains("1.5 GB"));
        }
        let s = suggest(DESKTOP, Some(4.0), 0);
        assert_eq!((s.model, s.quant), ("microsoft/DialoGPT-small", Quantization::Q4K));
        assert!(s.why.contains("4 GB"));
    }

    #[test]
    fn desktops_get_medium() {
        for (ua, mem, touch) in [(DESKTOP, None, 0), (DESKTOP, Some(8.0), 0), (IPAD, Some(16.0), 0)] {
            let s = suggest(ua, mem, touch);
            assert_eq!((s.model, s.quant), ("microsoft/DialoGPT-medium", Quantization::Q8_0), "{ua} {mem:?}");
        }
    }
}
