//! `wss://` for the tokio adapter (feature `tokio-tls`): the TLS handshake with
//! tokio-rustls on the crate's [`TlsAcceptor`] and [`TlsConnector`], then the WebSocket
//! handshake, both within [`handshake_timeout`](Config::handshake_timeout).

use ::tokio::net::TcpStream;

use super::WebSocketStream;
use super::handshake::{accept_with, client};
use crate::config::Config;
use crate::error::{Error, Timeout, UsageError};
use crate::handshake::{Accept, ClientRequest, HttpResponse, UpgradeRequest, UpgradeResponse, Url};
use crate::tls::{TlsAcceptor, TlsConnector, server_name};

/// A server's TLS stream over TCP.
pub type ServerTlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// A client's TLS stream over TCP.
pub type ClientTlsStream = tokio_rustls::client::TlsStream<TcpStream>;

/// Runs the TLS handshake on an accepted `tcp` with `tls`, then [`accept_with`]'s upgrade.
/// The TLS handshake counts against `config.handshake_timeout` too; bytes that are not
/// TLS get rustls' alert and an [`Error::Tls`].
///
/// ```no_run
/// use rfc6455::handshake::Accept;
/// use rfc6455::tls::TlsAcceptor;
/// use rfc6455::Config;
///
/// # async fn serve(tcp: tokio::net::TcpStream, tls: TlsAcceptor) -> Result<(), rfc6455::Error> {
/// let socket = rfc6455::tokio::accept_tls(tcp, &tls, &Config::default(), |_| Ok(Accept::new()))
///     .await?;
/// # drop(socket);
/// # Ok(())
/// # }
/// ```
pub async fn accept_tls<F>(
    tcp: TcpStream,
    tls: &TlsAcceptor,
    config: &Config,
    decide: F,
) -> Result<WebSocketStream<ServerTlsStream>, Error>
where
    F: FnOnce(&UpgradeRequest) -> Result<Accept, HttpResponse>,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config().clone());
    let accepting = async { Ok(acceptor.accept(tcp).await?) };
    let (stream, rest) = tls_within_timeout(config, accepting).await?;
    accept_with(stream, &rest, decide).await
}

/// Connects to a `wss://` URL trusting `tls`'s roots (checking the certificate against the
/// URL's host, which SNI carries too), then runs the upgrade. A certificate that does not
/// check out fails with [`Error::Tls`].
pub async fn connect_tls(
    url: &Url,
    request: &ClientRequest,
    config: &Config,
    tls: &TlsConnector,
) -> Result<(WebSocketStream<ClientTlsStream>, UpgradeResponse), Error> {
    if !url.is_secure() {
        return Err(UsageError::InvalidUrl("connect_tls takes a wss:// URL").into());
    }
    let name = server_name(url.host())?;
    let connector = tokio_rustls::TlsConnector::from(tls.config().clone());
    let connecting = async {
        let tcp = TcpStream::connect(url.authority()).await?;
        tcp.set_nodelay(true)?;
        Ok(connector.connect(name, tcp).await?)
    };
    let (stream, rest) = tls_within_timeout(config, connecting).await?;
    client(stream, request, &rest).await
}

/// Runs the TLS part of a handshake within `config.handshake_timeout`; returns its stream
/// and the config the upgrade then runs with: the same, with the time that is left.
async fn tls_within_timeout<T>(
    config: &Config,
    tls: impl Future<Output = Result<T, Error>>,
) -> Result<(T, Config), Error> {
    let started = ::tokio::time::Instant::now();
    let stream = match ::tokio::time::timeout(config.handshake_timeout, tls).await {
        Ok(stream) => stream?,
        Err(_) => return Err(Timeout::Handshake.into()),
    };
    let rest = Config {
        handshake_timeout: config.handshake_timeout.saturating_sub(started.elapsed()),
        ..config.clone()
    };
    Ok((stream, rest))
}
