//! The opening handshake (RFC 6455 section 4): an HTTP/1.1 Upgrade, parsed and written here
//! with no HTTP library.
//!
//! - Server: [`ServerHandshake`] reads a request head in chunks of any size and classifies
//!   it ([`Incoming`]): a valid [`UpgradeRequest`] to [`accept`](UpgradeRequest::accept), or
//!   a plain [`HttpRequest`] for the caller to answer on the same port. Every refusal is an
//!   [`HttpResponse`]: `HttpResponse::from(&error)` for a request that failed the handshake,
//!   one the application builds (401, 403, 404...) for one it turns away.
//! - Client: [`ClientHandshake`] writes the request a [`ClientRequest`] describes and checks
//!   the server's [`UpgradeResponse`].
//!
//! Both parsers are incremental and bounded (see [`Config`](crate::Config)): a chunk is
//! never re-scanned, and nothing beyond `max_head_bytes` is buffered.

mod accept_key;
mod body;
mod client;
mod head;
mod header_values;
pub(crate) mod response;
mod server;
mod url;

pub use crate::extension::Extension;
pub use accept_key::accept_key;
pub use body::{BodyDecoder, BodyProgress};
pub use client::{ClientHandshake, ClientRequest, UpgradeResponse};
pub use head::Head;
pub use response::HttpResponse;
pub use server::{Accept, HttpRequest, Incoming, ServerHandshake, UpgradeRequest};
pub use url::Url;
