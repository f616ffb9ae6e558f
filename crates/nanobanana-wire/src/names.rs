//! Field-name spellings: the service writes camelCase and accepts snake_case (proto JSON), so
//! the rules, the fake server and the conformance runner all compare names across the two.

use std::borrow::Cow;

/// `inline_data` → `inlineData`; a name without `_` is returned as it is, without allocating.
///
/// ```
/// use nanobanana_wire::names::camel_case;
/// assert_eq!(camel_case("thought_signature"), "thoughtSignature");
/// assert_eq!(camel_case("inlineData"), "inlineData");
/// ```
pub fn camel_case(name: &str) -> Cow<'_, str> {
    if !name.contains('_') {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `inlineData` → `inline_data`; a name without an upper-case letter is returned as it is.
///
/// ```
/// use nanobanana_wire::names::snake_case;
/// assert_eq!(snake_case("thoughtSignature"), "thought_signature");
/// assert_eq!(snake_case("data"), "data");
/// ```
pub fn snake_case(name: &str) -> Cow<'_, str> {
    if !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_generated_field_name() {
        for name in [
            "generationConfig",
            "responseModalities",
            "x",
            "imageSize",
            "aB",
        ] {
            assert_eq!(camel_case(&snake_case(name)), name);
        }
        assert_eq!(camel_case("a__b_"), "aB");
    }
}
