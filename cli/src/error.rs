//! The error [`crate::adapt`] returns: what kind of problem it is, for
//! callers to match on, and the message naming it (the import, the byte
//! offset, the feature), as the CLI prints it.

use std::fmt;

/// Why a program could not be adapted.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// The kinds of [`Error`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not WebAssembly, truncated, or invalid: at this byte offset of the
    /// module or component, when known.
    Invalid { offset: Option<u64> },
    /// Imports no preview1 host provides, each named with its module and
    /// the reason (`wasi:http/...`, a newer WASI, a built-in such as
    /// `task.return`).
    MissingImports { imports: Vec<String> },
    /// A shape that cannot become one preview1 module: a composition,
    /// several memories, no `wasi:cli/run` export, a 64-bit memory, ...
    Unsupported,
    /// `target_features` asks for less than the program needs, and this
    /// feature cannot be lowered.
    CannotLower { feature: String },
    /// A bug of this tool: please report it with the input.
    Internal,
}

impl Error {
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The whole message, naming the problem.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// A problem whose kind its origin knows, carried inside an `anyhow`
/// chain to the API's edge.
#[derive(Debug)]
pub(crate) struct Tagged {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for Tagged {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Tagged {}

/// An error of kind `kind` saying `message`.
pub(crate) fn tagged(kind: ErrorKind, message: impl Into<String>) -> anyhow::Error {
    Tagged {
        kind,
        message: message.into(),
    }
    .into()
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Error {
        let message = format!("{e:#}");
        let kind = e
            .chain()
            .find_map(|c| c.downcast_ref::<Tagged>().map(|t| t.kind.clone()))
            .or_else(|| {
                e.chain().find_map(|c| {
                    c.downcast_ref::<wasmparser::BinaryReaderError>()
                        .map(|b| ErrorKind::Invalid {
                            offset: Some(b.offset()),
                        })
                })
            })
            .unwrap_or(if message.contains("internal error") {
                ErrorKind::Internal
            } else {
                ErrorKind::Unsupported
            });
        Error { kind, message }
    }
}
