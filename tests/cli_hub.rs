//! `dialogpt --model org/repo` against a local stand-in for the Hugging Face Hub (HF_ENDPOINT)
//! that answers as the Hub does for the `hf-hub` crate: the repo listing, then each file with
//! its commit and ETag headers and byte ranges. The files land in the Hugging Face cache layout
//! under HF_HOME; a second run needs no network.

mod common;
use common::cli::*;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Repos of the stand-in: id → folder of files.
fn repos() -> Vec<(&'static str, PathBuf)> {
    vec![("test/tiny-dialogpt", hub_dir()), ("test/tiny-split", fixtures().join("split-gguf-py"))]
}

struct Hub {
    url: String,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Hub {
    fn start() -> Hub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let l = l.clone();
                std::thread::spawn(move || {
                    if let Ok(c) = conn {
                        let _ = serve(c, &l);
                    }
                });
            }
        });
        Hub { url: format!("http://127.0.0.1:{port}"), log, stop, port }
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Closes the listening socket: later connections are refused, as with no network.
    fn shut(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn respond(c: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    c.write_all(head.as_bytes())?;
    c.write_all(body)
}

fn serve(mut c: TcpStream, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(c.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = v.trim().strip_prefix("bytes=").map(|r| r.to_string());
            }
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    log.lock().unwrap().push(format!("{path} {}", range.clone().unwrap_or_default()));
    for (id, dir) in repos() {
        if path == format!("/api/models/{id}/revision/main") {
            let mut names: Vec<String> = std::fs::read_dir(&dir)?.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            let siblings: Vec<_> = names.iter().map(|n| serde_json::json!({ "rfilename": n })).collect();
            let body = serde_json::json!({ "sha": COMMIT, "siblings": siblings }).to_string();
            return respond(&mut c, "200 OK", &[("Content-Type", "application/json".into())], body.as_bytes());
        }
        if let Some(name) = path.strip_prefix(&format!("/{id}/resolve/main/")) {
            let Ok(data) = std::fs::read(dir.join(name)) else { break };
            let etag = format!("\"{:x}-{}\"", data.len(), name.len());
            let headers = |from: usize, to: usize| {
                vec![
                    ("x-repo-commit", COMMIT.to_string()),
                    ("ETag", etag.clone()),
                    ("Content-Range", format!("bytes {from}-{to}/{}", data.len())),
                ]
            };
            // hf-hub asks for the first byte (headers), then the rest from where it is.
            let (from, to) = match range.as_deref().and_then(|r| r.split_once('-')) {
                Some((a, b)) => (a.parse().unwrap_or(0), b.parse().unwrap_or(data.len() - 1)),
                None => (0, data.len() - 1),
            };
            return respond(&mut c, "206 Partial Content", &headers(from, to), &data[from..=to]);
        }
    }
    respond(&mut c, "404 Not Found", &[("x-error-code", "RepoNotFound".into())], b"Repository not found")
}

/// An empty HF_HOME for one test.
fn hf_home(name: &str) -> PathBuf {
    let dir = temp(&format!("hf-home-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_repo_id_downloads_into_the_hf_cache_then_runs_offline() {
    let hub = Hub::start();
    let home = hf_home("chat");
    let envs = [("HF_ENDPOINT", hub.url.as_str()), ("HF_HOME", home.to_str().unwrap())];
    assert_script_matches_reference("test/tiny-dialogpt", "f32", &envs);
    let fetched: Vec<String> = hub.requests().iter().filter(|r| r.contains("/resolve/") && !r.ends_with(" 0-0")).map(|r| r.split(' ').next().unwrap().rsplit('/').next().unwrap().to_string()).collect();
    assert_eq!(fetched, ["config.json", "vocab.json", "merges.txt", "pytorch_model.bin"]);
    // The standard cache layout: blobs, a ref and a snapshot per commit.
    let repo_dir = home.join("hub/models--test--tiny-dialogpt");
    assert_eq!(std::fs::read_to_string(repo_dir.join("refs/main")).unwrap().trim(), COMMIT);
    assert!(repo_dir.join("snapshots").join(COMMIT).join("pytorch_model.bin").exists());

    // No network: the cache is enough, for chat and for quantize.
    hub.shut();
    let before = hub.requests().len();
    assert_script_matches_reference("test/tiny-dialogpt", "f32", &envs);
    let out_file = temp("from-hub-q8.gguf");
    let out = dialogpt_with(&["quantize", "test/tiny-dialogpt", out_file.to_str().unwrap(), "--type", "q8_0"], &envs);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(hub.requests().len(), before, "requests after the hub went away");
    let native = script_rows(out_file.to_str().unwrap(), "q8_0", &[]);
    let from_hub = script_rows(hub_dir().to_str().unwrap(), "q8_0", &[]);
    assert_eq!(native, from_hub);
    std::fs::remove_file(out_file).ok();
    std::fs::remove_dir_all(home).ok();
}

#[test]
fn a_repo_of_split_gguf_files_is_fetched_whole() {
    let hub = Hub::start();
    let home = hf_home("split");
    let envs = [("HF_ENDPOINT", hub.url.as_str()), ("HF_HOME", home.to_str().unwrap())];
    let rows = script_rows("test/tiny-split", "q8_0", &envs);
    let single = script_rows(fixtures().join("tiny-variants/model-q8_0.gguf").to_str().unwrap(), "q8_0", &[]);
    assert_eq!(rows, single);
    let shards: Vec<String> = hub.requests().iter().filter(|r| r.contains(".gguf") && !r.ends_with(" 0-0")).cloned().collect();
    assert_eq!(shards.len(), 3, "{shards:?}");
    std::fs::remove_dir_all(home).ok();
}

#[test]
fn unknown_repos_and_revisions_fail_with_a_message() {
    let hub = Hub::start();
    let home = hf_home("bad");
    let envs = [("HF_ENDPOINT", hub.url.as_str()), ("HF_HOME", home.to_str().unwrap())];
    for (args, expect) in [
        (vec!["chat", "--model", "test/no-such-repo", "--script", "/dev/null"], "test/no-such-repo: cannot list the repository"),
        (vec!["chat", "--model", "test/tiny-dialogpt", "--revision", "v9", "--script", "/dev/null"], "cannot list the repository"),
        (vec!["chat", "--model", hub_dir().to_str().unwrap(), "--revision", "v9", "--script", "/dev/null"], "--revision applies to a Hub repo id"),
    ] {
        let out = dialogpt_with(&args, &envs);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(expect), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(home).ok();
}
