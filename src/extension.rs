//! [`Extension`]: one element of `Sec-WebSocket-Extensions`, a name and its parameters.
//! A leaf shared by the handshake (which parses and writes the header) and
//! permessage-deflate (which negotiates its parameters).

use crate::http_syntax::is_token_byte;

/// One extension of `Sec-WebSocket-Extensions`: a name and its parameters.
///
/// ```
/// use rfc6455::handshake::Extension;
/// let offer = Extension::new("permessage-deflate")
///     .with_param("client_max_window_bits", None)
///     .with_param("server_max_window_bits", Some("10"));
/// assert_eq!(
///     offer.to_string(),
///     "permessage-deflate; client_max_window_bits; server_max_window_bits=10"
/// );
/// assert_eq!(offer.param("server_max_window_bits"), Some(Some("10")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension's name (a token), such as `permessage-deflate`.
    pub name: String,
    /// Its parameters in order: a name, and a value if one was given (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

impl Extension {
    /// An extension with no parameters.
    pub fn new(name: impl Into<String>) -> Extension {
        Extension {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// This extension with one more parameter.
    pub fn with_param(mut self, name: impl Into<String>, value: Option<&str>) -> Extension {
        self.params.push((name.into(), value.map(str::to_owned)));
        self
    }

    /// `Some(value)` if the parameter is present (`Some(None)` when it has no value).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(param, _)| param.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_deref())
    }

    /// True if the name and every parameter are tokens, so it can be written as is.
    pub(crate) fn is_valid(&self) -> bool {
        let token = |s: &str| !s.is_empty() && s.bytes().all(is_token_byte);
        token(&self.name)
            && self
                .params
                .iter()
                .all(|(name, value)| token(name) && value.as_deref().is_none_or(token))
    }
}

impl std::fmt::Display for Extension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            match value {
                Some(value) => write!(f, "; {name}={value}")?,
                None => write!(f, "; {name}")?,
            }
        }
        Ok(())
    }
}
