//! Finding what a decoded value holds that this crate does not know: unknown fields (kept in
//! every struct's `unknown_fields`) and unknown enum values (kept in `Unknown` variants).

use std::fmt::Write as _;

use crate::UnknownFields;

/// Walks a decoded wire value and reports what it did not know. Implemented by every generated
/// struct.
pub trait Inspect {
    /// Adds everything unknown below `at` (a JSON pointer, camelCase names) to `report`.
    fn inspect(&self, at: &mut String, report: &mut UnknownReport);
}

/// What a decoded value held that the types do not name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnknownReport {
    /// JSON pointers (RFC 6901, names escaped) of fields that landed in an `unknown_fields` map.
    pub fields: Vec<String>,
    /// JSON pointers and values of enum values that decoded as `Unknown`.
    pub enum_values: Vec<(String, String)>,
}

impl UnknownReport {
    /// The report for a whole value.
    pub fn of<T: Inspect>(value: &T) -> Self {
        let mut report = Self::default();
        value.inspect(&mut String::new(), &mut report);
        report
    }

    /// Whether nothing unknown was found.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.enum_values.is_empty()
    }

    /// Records the keys of an `unknown_fields` map found at `at`, escaped per RFC 6901 (`~` as
    /// `~0`, `/` as `~1`), so that a pointer always splits back into the names it was made of.
    #[doc(hidden)]
    pub fn unknown_fields(&mut self, at: &str, fields: &UnknownFields) {
        for key in fields.keys() {
            let mut pointer = String::with_capacity(at.len() + 1 + key.len());
            pointer.push_str(at);
            pointer.push('/');
            for c in key.chars() {
                match c {
                    '~' => pointer.push_str("~0"),
                    '/' => pointer.push_str("~1"),
                    c => pointer.push(c),
                }
            }
            self.fields.push(pointer);
        }
    }

    /// Records an enum value found at `at`, if it is unknown.
    #[doc(hidden)]
    pub fn enum_value(&mut self, at: &str, value: &str, known: bool) {
        if !known {
            self.enum_values.push((at.to_owned(), value.to_owned()));
        }
    }
}

/// Appends `/<name>/<index>` to a JSON pointer.
#[doc(hidden)]
pub fn push_index(at: &mut String, name: &str, index: usize) {
    let _ = write!(at, "/{name}/{index}");
}
