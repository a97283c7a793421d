//! Query texts already parsed and checked, for the next request with the same text.
//!
//! Clients send the same few texts again and again with other variables (a case worker's
//! screen, an integration firing transitions), and parsing a text is a good part of what a
//! request costs before it reaches the database (GraphQL's grammar runs through a general
//! parser). A text that passed [`super::limits`]'s checks of the document is kept with its
//! document; the next request with the same text takes a copy of the document and skips the
//! parse and those checks (the limits are the server's and do not change while it runs). Its
//! variables are still checked, and the schema still validates it.
//!
//! A text with a string or a comment in it is not kept: a client that writes values into the
//! text instead of passing variables could be writing personal data there, and nothing
//! personal stays in memory beyond its request. At most [`KEPT`] texts of at most [`LONGEST`] bytes are kept;
//! when full, the cache starts over.

use async_graphql::parser::types::ExecutableDocument;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most texts kept.
pub const KEPT: usize = 256;
/// Longest text kept, in bytes.
pub const LONGEST: usize = 16 * 1024;

/// The cache (see the module documentation).
#[derive(Default)]
pub struct ParsedQueries {
    texts: Mutex<HashMap<Box<str>, Arc<ExecutableDocument>>>,
}

impl ParsedQueries {
    /// The document of `text`, when it was kept.
    pub fn get(&self, text: &str) -> Option<Arc<ExecutableDocument>> {
        self.texts.lock().ok()?.get(text).cloned()
    }

    /// Keeps the document of `text` (which passed the checks of the document), unless `text`
    /// is not to be kept (see the module documentation).
    pub fn keep(&self, text: &str, document: &ExecutableDocument) {
        if text.len() > LONGEST || text.contains(['"', '#']) {
            return;
        }
        let Ok(mut texts) = self.texts.lock() else {
            return;
        };
        if texts.len() >= KEPT {
            texts.clear();
        }
        texts.insert(text.into(), Arc::new(document.clone()));
    }

    /// How many texts are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.texts.lock().map(|t| t.len()).unwrap_or(0)
    }
}
