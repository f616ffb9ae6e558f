//! What a user turn says: text and input images ([`Message`]), and the composition of up to 14
//! reference images tagged as objects or characters ([`Composition`]), checked against the
//! model's limits (SPEC.md §1, §5) before anything is sent.

use nanobanana_rules::catalogue::{self, ReferenceImages};
use nanobanana_wire::{Content, GenerateContentRequest, Part};

use crate::error::Error;
use crate::media::InputImage;
use crate::options::ImageOptions;

/// One user turn: text and images, in order. Built from a `&str`, a `String`, a
/// [`Composition`], or part by part.
///
/// ```
/// use nanobanana_workflows::{InputImage, Message};
///
/// # let bytes = b"\x89PNG\r\n\x1a\n".to_vec();
/// let message = Message::text("Make the banana blue").with_image(InputImage::from_bytes(bytes)?);
/// assert_eq!(message.parts().len(), 2);
/// # Ok::<(), nanobanana_workflows::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    parts: Vec<Part>,
    composition: Option<Counts>,
}

/// The tagged reference counts of a composition, checked when the model is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    objects: u32,
    characters: u32,
    beyond_advice: bool,
}

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new().with_text(text)
    }

    /// Adds a text part.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.parts.push(Part::from_text(text));
        self
    }

    /// Adds an image part.
    pub fn with_image(mut self, image: InputImage) -> Self {
        self.parts.push(image.into_part());
        self
    }

    /// Adds a part as it is.
    pub fn with_part(mut self, part: Part) -> Self {
        self.parts.push(part);
        self
    }

    /// The parts, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Whether the message has no parts.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Checks what can be checked once the model is known: a composition's reference limits.
    pub fn check(&self, model: &str) -> Result<(), Error> {
        if self.parts.is_empty() {
            return Err(Error::invalid(
                "the message is empty: give a prompt, an image, or both",
            ));
        }
        match self.composition {
            Some(counts) => check_references(model, counts),
            None => Ok(()),
        }
    }

    /// The user content of this message.
    pub fn into_content(self) -> Content {
        Content::user(self.parts)
    }

    /// The request of a one-turn conversation: this message, checked for `model` (see
    /// [`check`](Self::check)), with `options`' `generationConfig` and `tools`. What
    /// [`Generate`](crate::Generate) and [`BatchBuilder::add_message`](crate::BatchBuilder::add_message)
    /// send, for a caller that checks or stores a request before it has a client (the CLI
    /// checks every request against the rules before it looks for a key).
    ///
    /// ```
    /// use nanobanana_workflows::{ImageOptions, Message};
    ///
    /// let request = Message::text("A nano banana dish")
    ///     .into_request("gemini-3-pro-image", &ImageOptions::new().with_aspect_ratio("16:9"))?;
    /// let json = serde_json::to_value(&request).unwrap();
    /// assert_eq!(json["contents"][0]["role"], "user");
    /// assert_eq!(json["contents"][0]["parts"][0]["text"], "A nano banana dish");
    /// assert_eq!(json["generationConfig"]["imageConfig"]["aspectRatio"], "16:9");
    /// assert!(Message::new().into_request("gemini-3-pro-image", &ImageOptions::new()).is_err());
    /// # Ok::<(), nanobanana_workflows::Error>(())
    /// ```
    pub fn into_request(
        self,
        model: &str,
        options: &ImageOptions,
    ) -> Result<GenerateContentRequest, Error> {
        self.into_turn_request(model, &[], options)
    }

    /// The request of one turn: `history` (copied), then this message (checked for `model`),
    /// with `options`' `generationConfig` and `tools`. What the builders, chats and batches send.
    pub(crate) fn into_turn_request(
        self,
        model: &str,
        history: &[Content],
        options: &ImageOptions,
    ) -> Result<GenerateContentRequest, Error> {
        self.check(model)?;
        let mut contents = Vec::with_capacity(history.len() + 1);
        contents.extend_from_slice(history);
        contents.push(self.into_content());
        let mut request = GenerateContentRequest::new().with_contents(contents);
        options.apply_to(&mut request);
        Ok(request)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::text(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::text(text)
    }
}

impl From<&String> for Message {
    fn from(text: &String) -> Self {
        Message::text(text.as_str())
    }
}

impl From<Composition> for Message {
    fn from(composition: Composition) -> Self {
        composition.into_message()
    }
}

/// How a reference image is meant (SPEC.md §1): an object to reproduce with high fidelity, or
/// a character whose likeness to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReferenceKind {
    /// A high-fidelity object image.
    Object,
    /// A character image (for likeness).
    Character,
}

/// One reference image of a [`Composition`], with an optional label sent as a text part just
/// before it (e.g. `"The handbag:"`), so the prompt can refer to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    kind: ReferenceKind,
    image: InputImage,
    label: Option<String>,
}

impl Reference {
    /// An object reference.
    pub fn object(image: InputImage) -> Self {
        Self {
            kind: ReferenceKind::Object,
            image,
            label: None,
        }
    }

    /// A character reference.
    pub fn character(image: InputImage) -> Self {
        Self {
            kind: ReferenceKind::Character,
            image,
            label: None,
        }
    }

    /// Sends `label` as a text part right before the image.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Object or character.
    pub fn kind(&self) -> ReferenceKind {
        self.kind
    }

    /// The image.
    pub fn image(&self) -> &InputImage {
        &self.image
    }

    /// The label, if any.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }
}

/// A prompt with up to 14 reference images, each an object or a character, checked against the
/// model's limits before sending: 10 objects and 4 characters on 3.1 Flash Image, 6 and 5 on
/// 3 Pro Image (14 in all on both), and the advice of at most 3 images on 2.5 Flash Image
/// (exceeding it is refused unless [`allow_beyond_advice`](Self::allow_beyond_advice)). Models
/// the catalogue does not know are not checked.
///
/// ```
/// use nanobanana_workflows::{Composition, InputImage};
///
/// # let image = || InputImage::from_bytes(b"\x89PNG\r\n\x1a\n".to_vec()).unwrap();
/// let mut office = Composition::new("An office group photo of these people, making funny faces.");
/// for _ in 0..5 {
///     office = office.with_character(image());
/// }
/// // 3 Pro takes 5 characters; 3.1 Flash takes 4.
/// assert!(office.check("gemini-3-pro-image").is_ok());
/// let error = office.check("gemini-3.1-flash-image").unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "5 character images are more than gemini-3.1-flash-image takes: \
///      at most 4 character images (and 10 object images, 14 images in all)"
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Composition {
    prompt: String,
    references: Vec<Reference>,
    beyond_advice: bool,
}

impl Composition {
    /// A composition with this prompt and no references yet.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            references: Vec::new(),
            beyond_advice: false,
        }
    }

    /// Adds an object reference.
    pub fn with_object(self, image: InputImage) -> Self {
        self.with_reference(Reference::object(image))
    }

    /// Adds a character reference.
    pub fn with_character(self, image: InputImage) -> Self {
        self.with_reference(Reference::character(image))
    }

    /// Adds a reference (with its label, if any).
    pub fn with_reference(mut self, reference: Reference) -> Self {
        self.references.push(reference);
        self
    }

    /// Sends more images than a model's *advice* (2.5 Flash Image: 3) instead of refusing. Hard
    /// limits still apply.
    pub fn allow_beyond_advice(mut self) -> Self {
        self.beyond_advice = true;
        self
    }

    /// The prompt.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// The references, in order.
    pub fn references(&self) -> &[Reference] {
        &self.references
    }

    /// How many object references.
    pub fn objects(&self) -> u32 {
        self.count(ReferenceKind::Object)
    }

    /// How many character references.
    pub fn characters(&self) -> u32 {
        self.count(ReferenceKind::Character)
    }

    fn count(&self, kind: ReferenceKind) -> u32 {
        let n = self.references.iter().filter(|r| r.kind == kind).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Checks the references against `model`'s limits (see the type's docs).
    pub fn check(&self, model: &str) -> Result<(), Error> {
        check_references(model, self.counts())
    }

    fn counts(&self) -> Counts {
        Counts {
            objects: self.objects(),
            characters: self.characters(),
            beyond_advice: self.beyond_advice,
        }
    }

    /// The message: the prompt, then each reference (its label first, if any).
    pub fn into_message(self) -> Message {
        let counts = self.counts();
        let mut message = Message::new();
        if !self.prompt.is_empty() {
            message = message.with_text(self.prompt);
        }
        for reference in self.references {
            if let Some(label) = reference.label {
                message = message.with_text(label);
            }
            message = message.with_image(reference.image);
        }
        message.composition = Some(counts);
        message
    }
}

fn check_references(model: &str, counts: Counts) -> Result<(), Error> {
    let Some(found) = catalogue::lookup(model).model() else {
        return Ok(());
    };
    let id = found.id();
    let total = counts.objects.saturating_add(counts.characters);
    match found.reference_images() {
        ReferenceImages::Limit {
            total: max_total,
            objects: max_objects,
            characters: max_characters,
        } => {
            let limits = |first: &str| {
                let (a, b) = if first == "object" {
                    (max_objects, max_characters)
                } else {
                    (max_characters, max_objects)
                };
                let other = if first == "object" {
                    "character"
                } else {
                    "object"
                };
                format!(
                    "at most {a} {first} images (and {b} {other} images, {max_total} images in all)"
                )
            };
            if counts.objects > max_objects {
                return Err(Error::TooManyReferences {
                    message: format!(
                        "{} object images are more than {id} takes: {}",
                        counts.objects,
                        limits("object")
                    ),
                });
            }
            if counts.characters > max_characters {
                return Err(Error::TooManyReferences {
                    message: format!(
                        "{} character images are more than {id} takes: {}",
                        counts.characters,
                        limits("character")
                    ),
                });
            }
            if total > max_total {
                return Err(Error::TooManyReferences {
                    message: format!(
                        "{total} reference images are more than {id} takes: at most {max_total} in all"
                    ),
                });
            }
            Ok(())
        }
        ReferenceImages::Advice { best_up_to } => {
            if total > best_up_to && !counts.beyond_advice {
                return Err(Error::TooManyReferences {
                    message: format!(
                        "{total} reference images are more than {id} works well with: at most \
                         {best_up_to}; send fewer, pick a Gemini 3 image model, or call \
                         allow_beyond_advice() to send them anyway"
                    ),
                });
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> InputImage {
        InputImage::from_bytes(b"\x89PNG\r\n\x1a\n".to_vec()).unwrap()
    }

    fn composition(objects: usize, characters: usize) -> Composition {
        let mut c = Composition::new("Put them together");
        for _ in 0..objects {
            c = c.with_object(image());
        }
        for _ in 0..characters {
            c = c.with_character(image());
        }
        c
    }

    /// SPEC.md §1 "reference images": 10 + 4 on 3.1 Flash, 6 + 5 on 3 Pro, 14 in all; advice of
    /// 3 on 2.5 Flash.
    #[test]
    fn reference_limits_per_model() {
        let flash = "gemini-3.1-flash-image";
        let pro = "gemini-3-pro-image";
        let nano = "gemini-2.5-flash-image";
        let cases = [
            (flash, 10, 4, true),
            (flash, 11, 0, false),
            (flash, 0, 5, false),
            (pro, 6, 5, true),
            (pro, 7, 0, false),
            (pro, 0, 6, false),
            (pro, 6, 5, true),
            (nano, 2, 1, true),
            (nano, 3, 1, false),
            ("gemini-9-image", 40, 40, true),
        ];
        for (model, objects, characters, ok) in cases {
            let result = composition(objects, characters).check(model);
            assert_eq!(
                result.is_ok(),
                ok,
                "{model} {objects}+{characters}: {result:?}"
            );
            if let Err(error) = result {
                assert!(matches!(error, Error::TooManyReferences { .. }));
                assert!(error.to_string().contains(model), "{error}");
            }
        }
        assert_eq!(
            composition(7, 0).check(pro).unwrap_err().to_string(),
            "7 object images are more than gemini-3-pro-image takes: at most 6 object \
             images (and 5 character images, 14 images in all)"
        );
        assert!(composition(3, 1).allow_beyond_advice().check(nano).is_ok());
        assert!(
            composition(3, 1)
                .check(nano)
                .unwrap_err()
                .to_string()
                .contains("allow_beyond_advice()")
        );
    }

    #[test]
    fn a_composition_becomes_prompt_labels_and_images() {
        let message: Message = Composition::new("The woman holds the bag")
            .with_reference(Reference::character(image()).with_label("The woman:"))
            .with_object(image())
            .into();
        let kinds: Vec<&str> = message
            .parts()
            .iter()
            .map(|p| if p.text.is_some() { "text" } else { "image" })
            .collect();
        assert_eq!(kinds, ["text", "text", "image", "image"]);
        assert!(message.check("gemini-3-pro-image").is_ok());
        assert!(Message::new().check("gemini-3-pro-image").is_err());
    }

    /// The public one-turn request is the pipeline's turn with no history: the message checked
    /// for the model (a composition's limits), then the options.
    #[test]
    fn a_one_turn_request_is_checked_and_carries_the_options() {
        let options = ImageOptions::new().with_aspect_ratio("16:9").image_only();
        let message = Message::text("A banana").with_image(image());
        let request = message
            .clone()
            .into_request("gemini-3-pro-image", &options)
            .unwrap();
        assert_eq!(
            request,
            message
                .into_turn_request("gemini-3-pro-image", &[], &options)
                .unwrap()
        );
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["contents"].as_array().unwrap().len(), 1);
        assert_eq!(
            json["contents"][0]["parts"][1]["inlineData"]["mimeType"],
            "image/png"
        );
        assert_eq!(json["generationConfig"]["responseModalities"][0], "IMAGE");
        let error = Message::from(composition(7, 0))
            .into_request("gemini-3-pro-image", &options)
            .unwrap_err();
        assert!(matches!(error, Error::TooManyReferences { .. }), "{error}");
    }
}
