//! [`ClusterAdapter`]: where a Socket.IO server's broadcasts and room operations also go
//! when it is one node of several, so that they reach the matching sockets of every node
//! (the reference's adapters beyond the in-memory one, as `@socket.io/redis-adapter`).

use std::sync::{Arc, OnceLock};

use crate::socketio::Packet;
use crate::socketio::server::namespace::{BroadcastOperator, Namespace};

/// The other nodes of a cluster, as a server's namespaces see them. Set on a server with
/// [`SocketIoServer::set_cluster_adapter`](super::SocketIoServer::set_cluster_adapter):
/// every broadcast and room operation made on it through a [`BroadcastOperator`] is done
/// on its own sockets as always and also handed to the adapter, once, on the calling
/// thread (so it must not block) — unless the operator is
/// [`local`](BroadcastOperator::local), which is how an adapter does what other nodes
/// ask, without handing it on again. `rfc6455::redis::SocketIoAdapter` (feature `redis`)
/// is one, over Redis pub/sub.
///
/// The operator says which sockets ([`rooms`](BroadcastOperator::rooms),
/// [`except_rooms`](BroadcastOperator::except_rooms)) and how
/// ([`is_volatile`](BroadcastOperator::is_volatile)); its namespace is the packet's.
pub trait ClusterAdapter: Send + Sync + 'static {
    /// A namespace of the server exists: told once for each of those made before the
    /// adapter was set, when it is set, and for each one made later, when it is made (a
    /// namespace made while the adapter is being set may be told twice).
    fn namespace_added(&self, namespace: &Namespace);

    /// A broadcast made on this node: `packet` is its EVENT (`[name, args...]`).
    fn broadcast(&self, operator: &BroadcastOperator, packet: &Packet);

    /// [`BroadcastOperator::sockets_join`] made on this node.
    fn sockets_join(&self, operator: &BroadcastOperator, room: &str) {
        let _ = (operator, room);
    }

    /// [`BroadcastOperator::sockets_leave`] made on this node.
    fn sockets_leave(&self, operator: &BroadcastOperator, room: &str) {
        let _ = (operator, room);
    }

    /// [`BroadcastOperator::disconnect_sockets`] made on this node.
    fn disconnect_sockets(&self, operator: &BroadcastOperator, close: bool) {
        let _ = (operator, close);
    }
}

/// The server's adapter, once set: shared by the server and each of its namespaces.
pub(crate) type ClusterSlot = Arc<OnceLock<Box<dyn ClusterAdapter>>>;
