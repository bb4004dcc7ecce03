//! [`Upgrade`]: the answer to a WebSocket upgrade, to give at once or later, from any
//! thread: an authentication check (a token lookup, a database) need not block the loop.

use std::net::SocketAddr;

use crate::handshake::{Accept, HttpResponse};
use crate::runtime::{Answer, Reply, SocketId};

/// A pending upgrade, handed to `on_upgrade`: accept it (with the connection's data) or
/// refuse it, exactly once. It is `Send`, so the answer can come from another thread, as
/// ws's `handleUpgrade` and uWebSockets' `res.upgrade` allow; the loop goes on serving its
/// other connections meanwhile, and reads nothing more from this one until the answer
/// comes. An upgrade dropped unanswered is refused with 500; one not answered within
/// [`handshake_timeout`](crate::Config::handshake_timeout) is dropped with its connection.
///
/// ```no_run
/// use rfc6455::events::{Handlers, Server};
/// use rfc6455::handshake::HttpResponse;
///
/// #[derive(Default)]
/// struct User { name: String }
///
/// Server::<User>::new(Handlers::new())
///     .on_upgrade(|request, upgrade| {
///         let token = request.header("Authorization").unwrap_or_default().to_owned();
///         // Check the token elsewhere; the loop does not wait.
///         std::thread::spawn(move || match token.strip_prefix("Bearer ") {
///             Some(name) => upgrade.accept(User { name: name.to_owned() }),
///             None => upgrade.refuse(HttpResponse::text(401, "a bearer token is required")),
///         });
///     })
///     .bind("127.0.0.1:9001")?
///     .run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Upgrade<D> {
    reply: Reply<Answer<D>>,
}

impl<D: Send + 'static> Upgrade<D> {
    pub(crate) fn new(reply: Reply<Answer<D>>) -> Self {
        Upgrade { reply }
    }

    /// The id the socket has once accepted (the one its handlers' [`Socket::id`] gives).
    ///
    /// [`Socket::id`]: super::Socket::id
    pub fn id(&self) -> SocketId {
        self.reply.id()
    }

    /// The address of the client asking to upgrade.
    pub fn peer_addr(&self) -> SocketAddr {
        self.reply.peer()
    }

    /// Accepts with no subprotocol or extra header; `data` becomes the socket's data.
    pub fn accept(self, data: D) {
        self.accept_with(Accept::new(), data);
    }

    /// Accepts as `accept` says (a subprotocol, extra headers); `data` becomes the
    /// socket's data. If `accept` chooses what the client did not offer, the client gets
    /// 500 instead.
    pub fn accept_with(self, accept: Accept, data: D) {
        self.reply.answer(Answer::Accept(accept, data));
    }

    /// Refuses with `response` (401 with a body, 403, 404...); the connection closes
    /// after it.
    pub fn refuse(self, response: HttpResponse) {
        self.reply.answer(Answer::Refuse(response));
    }
}
