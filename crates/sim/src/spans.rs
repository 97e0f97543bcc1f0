//! From a key path to a line in the scenario text, and back.
//!
//! serde reports errors with a byte span and validation works on key paths; a user wants both
//! the key and the line. A `toml_edit` document keeps the span of every key, table header and
//! value, so one walk over it gives a sorted index in both directions.

use toml_edit::{Item, Table, Value};

use crate::error::Location;

/// Every key, table header and array element of a document with its byte offset.
pub(crate) struct SpanIndex {
    file: String,
    line_starts: Vec<usize>,
    /// (byte offset, key path), in document order.
    entries: Vec<(usize, String)>,
}

fn join(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

impl SpanIndex {
    pub(crate) fn new(file: &str, text: &str, doc: Option<&toml_edit::Document<&str>>) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut entries = Vec::new();
        if let Some(doc) = doc {
            walk_table(doc.as_table(), "", &mut entries);
        }
        entries.sort_by_key(|e| e.0);
        Self {
            file: file.to_string(),
            line_starts,
            entries,
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        (line, offset - self.line_starts[line - 1] + 1)
    }

    /// The location of a byte offset, with the key path of the innermost key at or before it.
    pub(crate) fn at_offset(&self, offset: usize) -> Location {
        let i = self.entries.partition_point(|e| e.0 <= offset);
        let key = if i == 0 {
            String::new()
        } else {
            // Several entries may share the offset (a table and its first key); the last one in
            // sort order is the deepest because walks push parents first.
            self.entries[i - 1].1.clone()
        };
        let (line, column) = self.line_col(offset);
        Location {
            file: self.file.clone(),
            key,
            line,
            column,
        }
    }

    /// The location of a key path; a key that is not in the text (a default) points at the
    /// nearest enclosing table that is.
    pub(crate) fn at_key(&self, key: &str) -> Location {
        let mut probe = key.to_string();
        loop {
            if let Some((offset, _)) = self.entries.iter().find(|e| e.1 == probe) {
                let (line, column) = self.line_col(*offset);
                return Location {
                    file: self.file.clone(),
                    key: key.to_string(),
                    line,
                    column,
                };
            }
            match probe.rfind(['.', '[']) {
                Some(cut) => probe.truncate(cut),
                None => {
                    return Location {
                        file: self.file.clone(),
                        key: key.to_string(),
                        line: 1,
                        column: 1,
                    }
                }
            }
        }
    }
}

fn walk_table(t: &Table, path: &str, out: &mut Vec<(usize, String)>) {
    if let Some(span) = t.span() {
        out.push((span.start, path.to_string()));
    }
    for (k, item) in t.iter() {
        let p = join(path, k);
        if let Some(span) = t.key(k).and_then(|key| key.span()) {
            out.push((span.start, p.clone()));
        }
        walk_item(item, &p, out);
    }
}

fn walk_item(item: &Item, path: &str, out: &mut Vec<(usize, String)>) {
    match item {
        Item::None => {}
        Item::Table(t) => walk_table(t, path, out),
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                walk_table(t, &format!("{path}[{i}]"), out);
            }
        }
        Item::Value(v) => walk_value(v, path, out),
    }
}

fn walk_value(v: &Value, path: &str, out: &mut Vec<(usize, String)>) {
    if let Some(span) = v.span() {
        out.push((span.start, path.to_string()));
    }
    match v {
        Value::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                walk_value(e, &format!("{path}[{i}]"), out);
            }
        }
        Value::InlineTable(t) => {
            for (k, e) in t.iter() {
                let p = join(path, k);
                if let Some(span) = t.key(k).and_then(|key| key.span()) {
                    out.push((span.start, p.clone()));
                }
                walk_value(e, &p, out);
            }
        }
        _ => {}
    }
}
