//! [`Fanout`]: where a server's broadcasts also go when it is one of several (a cluster),
//! so that a broadcast reaches every matching socket on every server.

use crate::protocol::EncodedMessage;

/// The other servers of a cluster, as a server's broadcasts see them. Set on a server with
/// [`Handle::set_fanout`](super::Handle::set_fanout): every broadcast made on it, from a
/// handler or a handle, is delivered to its own sockets as always and also handed to the
/// fanout, once, on the broadcasting thread (so it must not block). The other servers
/// deliver what they receive with
/// [`Broadcast::this_server_only`](super::Broadcast::this_server_only), which does not
/// hand it on again. `rfc6455::redis::Cluster` (feature `redis`) carries broadcasts
/// through Redis pub/sub.
///
/// A broadcast's `except` names a socket of this server: the other servers have no such
/// socket, so their members all get the message.
pub trait Fanout: Send + Sync + 'static {
    /// A broadcast made on this server: to `room`'s members, or to every socket if `None`.
    fn broadcast(&self, room: Option<&str>, message: &EncodedMessage);
}
