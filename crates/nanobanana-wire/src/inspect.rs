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
    /// JSON pointers of fields that landed in an `unknown_fields` map.
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

    /// Records the keys of an `unknown_fields` map found at `at`.
    #[doc(hidden)]
    pub fn unknown_fields(&mut self, at: &str, fields: &UnknownFields) {
        for key in fields.keys() {
            self.fields.push(format!("{at}/{key}"));
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
