//! The opening handshake (RFC 6455 section 4): an HTTP/1.1 Upgrade, parsed and written here
//! with no HTTP library.
//!
//! - Server: [`ServerHandshake`] reads a request head in chunks of any size and classifies
//!   it ([`Incoming`]): a valid [`UpgradeRequest`] to [`accept`](UpgradeRequest::accept), or
//!   a plain HTTP [`Request`] for the caller to answer on the same port. Refusals are errors
//!   carrying the response to send.
//! - Client: [`ClientHandshake`] writes the request for a [`ClientRequest`] and checks the
//!   server's response.
//!
//! Both parsers are incremental and bounded (see [`Config`](crate::Config)): a chunk is
//! never re-scanned, and nothing beyond `max_head_bytes` is buffered.

mod accept_key;
mod client;
mod head;
mod header_values;
pub(crate) mod response;
mod server;
mod url;

pub use accept_key::accept_key;
pub use client::{ClientHandshake, ClientRequest, Connected, Response};
pub use head::Head;
pub use header_values::{Extension, extension_parse_steps};
pub use response::HttpResponse;
pub use server::{Accept, Accepted, Incoming, Request, ServerHandshake, UpgradeRequest};
pub use url::Url;
