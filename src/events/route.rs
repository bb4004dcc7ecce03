//! [`Route`]: what a server does for the requests and sockets under one path prefix (its
//! own handlers, upgrade decisions and plain HTTP answers), mounted with
//! [`Server::route`](super::Server::route) beside the server's own. A library built on the
//! event API (Engine.IO at `/engine.io/`, a health check) mounts itself this way without
//! taking over the application's handlers.

use super::handlers::{Handlers, HttpHandler, UpgradeHandler};
use super::{HttpReply, Upgrade};
use crate::handshake::{HttpRequest, HttpResponse, UpgradeRequest};

/// The handlers, upgrade decisions and plain HTTP answers of one path prefix.
///
/// A request goes to the route with the longest prefix its path starts with, or to the
/// server's own handlers if none matches; a WebSocket's events go to the route that
/// accepted its upgrade (found again by the path it connected to). What a route leaves
/// unset behaves as it does on a server: every valid upgrade accepted with `D::default()`,
/// plain HTTP answered 426.
///
/// ```no_run
/// use rfc6455::events::{Handlers, Route, Server};
/// use rfc6455::handshake::HttpResponse;
///
/// let chat = Route::new(Handlers::<()>::new().on_message(|socket, message| {
///     let _ = socket.to("chat").send(message);
/// }));
/// let health = Route::new(Handlers::new()).on_http(|_| HttpResponse::text(200, "ok"));
/// Server::new(Handlers::new())
///     .route("/chat/", chat)
///     .route("/health", health)
///     .on_http(|_| HttpResponse::text(404, "not found"))
///     .bind("127.0.0.1:8080")?
///     .run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Route<D = ()> {
    pub(crate) handlers: Handlers<D>,
    pub(crate) upgrade: Option<UpgradeHandler<D>>,
    pub(crate) http: Option<HttpHandler>,
}

impl<D> std::fmt::Debug for Route<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("handlers", &self.handlers)
            .field("upgrade", &self.upgrade.is_some())
            .field("http", &self.http.is_some())
            .finish()
    }
}

impl<D> Route<D> {
    /// A route whose WebSockets run `handlers`.
    pub fn new(handlers: Handlers<D>) -> Self {
        Route {
            handlers,
            upgrade: None,
            http: None,
        }
    }

    /// Answers the route's plain HTTP requests at once (see
    /// [`Server::on_http`](super::Server::on_http)).
    pub fn on_http(
        self,
        handler: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.on_http_reply(move |request, reply| reply.send(handler(request)))
    }

    /// Answers the route's plain HTTP requests, now or later (see
    /// [`Server::on_http_reply`](super::Server::on_http_reply)).
    pub fn on_http_reply(
        mut self,
        handler: impl Fn(&HttpRequest, HttpReply) + Send + Sync + 'static,
    ) -> Self {
        self.http = Some(Box::new(handler));
        self
    }

    /// Decides on the route's upgrades (see [`Server::on_upgrade`](super::Server::on_upgrade)).
    pub fn on_upgrade(
        mut self,
        handler: impl Fn(&UpgradeRequest, Upgrade<D>) + Send + Sync + 'static,
    ) -> Self {
        self.upgrade = Some(Box::new(handler));
        self
    }
}

/// A server's routes and its own handlers, and which serves a path.
pub(crate) struct Routes<D> {
    /// The server's own handlers, for every path no route claims.
    pub(crate) fallback: Route<D>,
    /// The mounted routes, by prefix.
    pub(crate) mounted: Vec<(Box<str>, Route<D>)>,
}

impl<D> Routes<D> {
    pub(crate) fn new(fallback: Route<D>) -> Self {
        Routes {
            fallback,
            mounted: Vec::new(),
        }
    }

    /// The route with the longest prefix `path` starts with, else the fallback.
    pub(crate) fn serving(&self, path: &str) -> &Route<D> {
        self.mounted
            .iter()
            .filter(|(prefix, _)| path.starts_with(&**prefix))
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or(&self.fallback, |(_, route)| route)
    }
}

/// The path of a request target (`/chat?room=1` → `/chat`).
pub(crate) fn path_of(target: &str) -> &str {
    target.split_once('?').map_or(target, |(path, _)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_matching_prefix_serves_and_the_fallback_takes_the_rest() {
        let mut routes = Routes::new(Route::new(Handlers::<()>::new()));
        routes.mounted.push((
            Box::from("/a/"),
            Route::new(Handlers::new()).on_http(|_| HttpResponse::new(201)),
        ));
        routes
            .mounted
            .push((Box::from("/a/b/"), Route::new(Handlers::new())));
        let route_ptr = |path| routes.serving(path) as *const Route<()>;
        assert_eq!(route_ptr("/a/x"), &routes.mounted[0].1 as *const _);
        assert_eq!(route_ptr("/a/b/c"), &routes.mounted[1].1 as *const _);
        assert_eq!(route_ptr("/a"), &routes.fallback as *const _);
        assert_eq!(route_ptr("/"), &routes.fallback as *const _);
        assert_eq!(path_of("/a/?EIO=4"), "/a/");
        assert_eq!(path_of("/a"), "/a");
    }
}
