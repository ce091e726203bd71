//! How keeping a downloaded model on this device goes, as the worker tells the page.

use super::Store;
use serde::{Deserialize, Serialize};

/// A downloaded model on its way to browser storage, written while it already answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum KeepState {
    /// `done` of `total` bytes of its file written.
    Writing { done: u64, total: u64 },
    /// Stored whole: the next visit reads it from here; `ms` from Ready to stored.
    Kept { store: Store, ms: f64 },
    /// Not stored (a notice says why).
    NotKept,
}

impl KeepState {
    /// The page root's `data-keep` hook.
    pub fn as_str(&self) -> &'static str {
        match self {
            KeepState::Writing { .. } => "writing",
            KeepState::Kept { .. } => "kept",
            KeepState::NotKept => "not-kept",
        }
    }
}
