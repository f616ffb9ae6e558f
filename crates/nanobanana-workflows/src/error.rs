//! The error of the workflows: a failed call (the transport's [`nanobanana_transport::Error`]),
//! an answer that cannot be used, bad input caught before sending, files, imports and batches.

use std::path::PathBuf;

use nanobanana_rules::Outcome;

/// Anything that went wrong in a workflow. Match on it: each variant says what happened and
/// carries what a caller needs to react.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The call failed: refused before sending by the rules, answered with an error by the
    /// service, or lost on the way. The transport error has the details and predicates
    /// (`is_retryable()`, `status()`, `validation_report()`).
    #[error(transparent)]
    Transport(#[from] nanobanana_transport::Error),

    /// The service answered, but not with what was asked for: no image, a safety block, a
    /// blocked prompt, an empty answer. A chat turn that ends so leaves the history unchanged.
    #[error("the answer is not usable: {outcome}")]
    Unusable {
        /// What the service answered instead.
        outcome: Outcome,
    },

    /// Input bytes are not an image of a type the service takes.
    #[error(
        "unrecognised image type: {what}; supported are {supported}, recognised from the content (not the file name)",
        supported = nanobanana_wire::media::SUPPORTED
    )]
    UnknownImageType {
        /// What was given (a path and/or a description of the first bytes).
        what: String,
    },

    /// More reference images than the model takes (objects, characters or in all).
    #[error("{message}")]
    TooManyReferences {
        /// What was given and what the model allows.
        message: String,
    },

    /// An argument is unusable; the message says which and what is allowed.
    #[error("{message}")]
    InvalidInput {
        /// What is wrong and what is allowed.
        message: String,
    },

    /// Reading or writing a file failed.
    #[error("could not {action} {path}: {source}", path = path.display())]
    Io {
        /// What was being done, e.g. `write the image`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// `save` refused to replace a file that exists (use `save_replacing` to replace it).
    #[error("{path} already exists; not replaced (use save_replacing to replace it)", path = path.display())]
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },

    /// A chat export could not be imported: unreadable, of an unknown format version, changed
    /// since it was exported, or breaking the conversation rules (roles, thought signatures).
    #[error("chat import rejected: {reason}")]
    Import {
        /// What is wrong, with the content and part positions (1-based) where it applies.
        reason: String,
    },

    /// A batch ended without results (failed, cancelled or expired), or its answer was not
    /// understood.
    #[error("batch {name}: {message}")]
    Batch {
        /// The batch (`batches/ID`).
        name: String,
        /// What happened.
        message: String,
    },
}

impl Error {
    /// The outcome of an unusable answer.
    pub fn outcome(&self) -> Option<&Outcome> {
        match self {
            Error::Unusable { outcome } => Some(outcome),
            _ => None,
        }
    }

    /// The transport error of a failed call.
    pub fn transport(&self) -> Option<&nanobanana_transport::Error> {
        match self {
            Error::Transport(error) => Some(error),
            _ => None,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }
}
