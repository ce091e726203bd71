//! The page's URL query parameters: which model to load and how to generate. Pure string
//! work (tested natively); a bad value falls back to its default with a visible warning.

use super::embed::{parse_allow_list, AllowList};
use crate::worker::protocol::{GenerationConfig, Quantization, StoragePolicy, DEFAULT_HUB};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Follows the system's light/dark setting.
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UrlParams {
    /// `model`: a Hub repo id or a URL; when present the page loads it at once.
    pub model: Option<String>,
    pub hub: String,
    /// `quant`: when absent, the picker's suggestion for this device (else q8_0) applies.
    pub quant: Option<Quantization>,
    pub generation: GenerationConfig,
    /// `storage`: where a loaded model is kept (`auto`, `opfs`, `cache`, `none`).
    pub storage: StoragePolicy,
    pub theme: Theme,
    /// `compact`: a denser layout without the title and model picker, for embedding.
    pub compact: bool,
    /// `greeting`: a first bot message shown above the chat (display only: not in the
    /// token history, so replies stay those of the plain model).
    pub greeting: Option<String>,
    /// `allow_origins`: who may drive the chat with `postMessage` (see `embed.rs`).
    pub allow: AllowList,
    /// `simd=baseline`: use the plain simd128 worker even where relaxed SIMD runs (for
    /// comparisons and as a way out should a browser miscompute relaxed instructions).
    pub baseline_simd: bool,
    /// `threads=N`: how many threads compute (1 = the worker alone); `None` = as many as the
    /// device has cores, up to [`MAX_DEFAULT_THREADS`], where the page is cross-origin isolated.
    pub threads: Option<usize>,
    /// One line per ignored parameter value.
    pub warnings: Vec<String>,
}

/// The most threads a `threads=N` may ask for.
pub const MAX_THREADS: usize = 32;
/// The most threads used when the URL does not say: decoding a token reads every weight once,
/// so beyond a few threads the memory bus, not the cores, sets the speed, and each thread
/// costs a web worker and its stack.
pub const MAX_DEFAULT_THREADS: usize = 8;

/// Decodes `%XX` escapes and `+` (form encoding) in a query component.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    while i < b.len() {
        let escaped = match b[i] {
            b'%' if i + 2 < b.len() => hex(b[i + 1]).zip(hex(b[i + 2])).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match (b[i], escaped) {
            (_, Some(v)) => {
                out.push(v);
                i += 2;
            }
            (b'+', None) => out.push(b' '),
            (c, None) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `?a=1&b=x` (leading `?` optional) → decoded pairs, in order.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn parse_num<T: std::str::FromStr>(key: &str, v: &str, slot: &mut T, warnings: &mut Vec<String>) {
    match v.trim().parse() {
        Ok(x) => *slot = x,
        Err(_) => warnings.push(format!("ignored {key}={v}: not a number")),
    }
}

impl UrlParams {
    pub fn parse(query: &str) -> UrlParams {
        let mut p = UrlParams {
            model: None,
            hub: DEFAULT_HUB.to_string(),
            quant: None,
            generation: GenerationConfig::default(),
            storage: StoragePolicy::Auto,
            theme: Theme::Auto,
            compact: false,
            greeting: None,
            allow: AllowList::Nobody,
            baseline_simd: false,
            threads: None,
            warnings: Vec::new(),
        };
        let g = &mut p.generation;
        let w = &mut p.warnings;
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "model" if !v.trim().is_empty() => p.model = Some(v.trim().to_string()),
                "hub" if !v.trim().is_empty() => p.hub = v.trim().to_string(),
                "quant" => match v.parse() {
                    Ok(q) => p.quant = Some(q),
                    Err(e) => w.push(format!("ignored quant={v}: {e}")),
                },
                "storage" => match v.parse() {
                    Ok(s) => p.storage = s,
                    Err(e) => w.push(format!("ignored storage={v}: {e}")),
                },
                "max_new_tokens" => parse_num(&k, &v, &mut g.max_new_tokens, w),
                "temperature" => parse_num(&k, &v, &mut g.temperature, w),
                "top_k" => parse_num(&k, &v, &mut g.top_k, w),
                "top_p" => parse_num(&k, &v, &mut g.top_p, w),
                "repetition_penalty" => parse_num(&k, &v, &mut g.repetition_penalty, w),
                "no_repeat_ngram_size" => parse_num(&k, &v, &mut g.no_repeat_ngram_size, w),
                "seed" => parse_num(&k, &v, &mut g.seed, w),
                "theme" => match v.trim().to_ascii_lowercase().as_str() {
                    "auto" | "" => p.theme = Theme::Auto,
                    "light" => p.theme = Theme::Light,
                    "dark" => p.theme = Theme::Dark,
                    _ => w.push(format!("ignored theme={v}: use light, dark or auto")),
                },
                "compact" => match parse_bool(&v) {
                    Some(b) => p.compact = b,
                    None => w.push(format!("ignored compact={v}: use 1 or 0")),
                },
                "simd" => match v.trim().to_ascii_lowercase().as_str() {
                    "auto" | "" => p.baseline_simd = false,
                    "baseline" => p.baseline_simd = true,
                    _ => w.push(format!("ignored simd={v}: use auto or baseline")),
                },
                "threads" => match v.trim().parse::<usize>() {
                    Ok(n) if (1..=MAX_THREADS).contains(&n) => p.threads = Some(n),
                    _ if matches!(v.trim(), "" | "auto") => p.threads = None,
                    _ => w.push(format!("ignored threads={v}: use a number from 1 to {MAX_THREADS}, or auto")),
                },
                // Read by web/offline.js before the app starts; checked here so a typo is told.
                "coi" if !matches!(v.trim(), "0" | "1") => {
                    w.push(format!("ignored coi={v}: use 0 (the service worker does not isolate the page) or 1"))
                }
                "sw" if !matches!(v.trim(), "0" | "1") => w.push(format!("ignored sw={v}: use 0 (no offline copy of the app) or 1")),
                "greeting" if !v.trim().is_empty() => p.greeting = Some(v.trim().chars().take(500).collect()),
                "allow_origins" => {
                    let (allow, problems) = parse_allow_list(Some(&v));
                    p.allow = allow;
                    w.extend(problems);
                }
                _ => {}
            }
        }
        if let Err(e) = p.generation.validate() {
            p.warnings.push(format!("ignored the generation settings: {e}"));
            p.generation = GenerationConfig::default();
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_components() {
        assert_eq!(percent_decode("http%3A%2F%2F127.0.0.1%3A8000"), "http://127.0.0.1:8000");
        assert_eq!(percent_decode("a+b%20c%"), "a b c%");
        assert_eq!(percent_decode("%e2%82%ac%zz"), "€%zz");
    }

    #[test]
    fn reads_all_parameters() {
        let p = UrlParams::parse(
            "?model=test/tiny-dialogpt&hub=http://127.0.0.1:8123&quant=f32&max_new_tokens=12\
             &temperature=0.7&top_k=40&top_p=0.9&repetition_penalty=1.3&no_repeat_ngram_size=3&seed=7",
        );
        assert_eq!(p.model.as_deref(), Some("test/tiny-dialogpt"));
        assert_eq!(p.hub, "http://127.0.0.1:8123");
        assert_eq!(p.quant, Some(Quantization::F32));
        let g = &p.generation;
        assert_eq!((g.max_new_tokens, g.top_k, g.no_repeat_ngram_size, g.seed), (12, 40, 3, 7));
        assert_eq!((g.temperature, g.top_p, g.repetition_penalty), (0.7, 0.9, 1.3));
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!((p.theme, p.compact, p.greeting, p.allow), (Theme::Auto, false, None, AllowList::Nobody));
    }

    #[test]
    fn embedding_parameters() {
        let p = UrlParams::parse("theme=dark&compact&greeting=Hello%2C+I%27m+a+bot&allow_origins=https%3A%2F%2Fdocs.example.com");
        assert_eq!((p.theme, p.compact), (Theme::Dark, true));
        assert_eq!(p.greeting.as_deref(), Some("Hello, I'm a bot"));
        assert!(p.allow.allows("https://docs.example.com"));
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert!(UrlParams::parse("simd=baseline").baseline_simd);
        let p = UrlParams::parse("simd=fast");
        assert!(!p.baseline_simd && p.warnings[0].contains("use auto or baseline"), "{:?}", p.warnings);
        assert_eq!((UrlParams::parse("threads=4").threads, UrlParams::parse("threads=auto").threads), (Some(4), None));
        for bad in ["threads=0", "threads=many", "threads=99"] {
            let p = UrlParams::parse(bad);
            assert!(p.threads.is_none() && p.warnings[0].contains("use a number from 1 to 32"), "{bad}: {:?}", p.warnings);
        }
        assert!(UrlParams::parse("coi=0&coi=1").warnings.is_empty());
        assert!(UrlParams::parse("coi=no").warnings[0].contains("ignored coi=no"));
        // sw is read by web/offline.js; a value it would not understand is told here.
        assert!(UrlParams::parse("sw=0&sw=1").warnings.is_empty());
        assert!(UrlParams::parse("sw=off").warnings[0].contains("ignored sw=off"));
        let p = UrlParams::parse("theme=pink&compact=maybe&compact=0");
        assert_eq!((p.theme, p.compact, p.warnings.len()), (Theme::Auto, false, 2));
    }

    #[test]
    fn defaults_and_warnings() {
        let p = UrlParams::parse("");
        assert_eq!((p.model, p.hub.as_str(), p.quant, p.storage), (None, DEFAULT_HUB, None, StoragePolicy::Auto));
        assert_eq!(UrlParams::parse("storage=none").storage, StoragePolicy::None);
        assert_eq!(UrlParams::parse("storage=cache").storage, StoragePolicy::CacheApi);
        assert_eq!(UrlParams::parse("storage=disk").warnings.len(), 1);
        assert!(p.generation.is_greedy());
        let p = UrlParams::parse("quant=q3&top_k=many&top_p=2");
        assert_eq!(p.warnings.len(), 3, "{:?}", p.warnings);
        assert_eq!(p.generation, GenerationConfig::default());
    }
}
