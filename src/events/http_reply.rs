//! [`HttpReply`]: the answer to a plain HTTP request, to give at once or later, from any
//! thread: a long-poll (Engine.IO's transport, a comet endpoint) holds its request until
//! there is something to say, without holding the loop.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::handshake::HttpResponse;
use crate::runtime::Reply;

/// A pending plain HTTP request, handed to [`Server::on_http_reply`]: answer it exactly
/// once. It is `Send`, so the answer can come from another thread; the loop goes on serving
/// its other connections meanwhile and reads nothing more from this one until the answer
/// comes. A reply dropped unanswered sends 500; one not answered within
/// [`http_answer_timeout`](crate::Config::http_answer_timeout) drops the connection. With
/// HTTP/1.1 keep-alive the connection then reads its next request.
///
/// [`Server::on_http_reply`]: super::Server::on_http_reply
///
/// ```no_run
/// use std::time::Duration;
/// use rfc6455::events::{Handlers, Server};
/// use rfc6455::handshake::HttpResponse;
///
/// Server::new(Handlers::<()>::new())
///     .on_http_reply(|request, reply| {
///         if request.path() == "/poll" {
///             // Held until there is news; here, a second.
///             std::thread::spawn(move || {
///                 std::thread::sleep(Duration::from_secs(1));
///                 reply.send(HttpResponse::text(200, "news"));
///             });
///         } else {
///             reply.send(HttpResponse::text(404, "nothing here"));
///         }
///     })
///     .bind("127.0.0.1:8080")?
///     .run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct HttpReply {
    reply: Reply<HttpResponse>,
}

impl HttpReply {
    pub(crate) fn new(reply: Reply<HttpResponse>) -> Self {
        HttpReply { reply }
    }

    /// The address of the client that sent the request.
    pub fn peer_addr(&self) -> SocketAddr {
        self.reply.peer()
    }

    /// Runs `hook` once if the request is cancelled before it is answered: the client
    /// closed the connection (an aborted long-poll), the
    /// [`http_answer_timeout`](crate::Config::http_answer_timeout) passed, or the server
    /// stopped. It runs at once if that happened already, else on the loop's thread when it
    /// happens (so it must not block); an answer sent after it goes nowhere. A panic in it is
    /// caught.
    pub fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) {
        self.reply.on_cancel(move || {
            let _ = catch_unwind(AssertUnwindSafe(hook));
        });
    }

    /// Sends `response`.
    pub fn send(self, response: HttpResponse) {
        self.reply.answer(response);
    }
}
