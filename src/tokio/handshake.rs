//! The opening handshake over a tokio transport, each bounded by
//! [`handshake_timeout`](Config::handshake_timeout): [`accept`] and [`accept_with`] on the
//! server side, [`connect`], [`connect_with`] and [`client`] on the client side.

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::net::TcpStream;

use super::WebSocketStream;
use crate::config::Config;
use crate::error::{Error, HandshakeError, Timeout, UsageError};
use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, HttpResponse, Incoming, ServerHandshake,
    UpgradeRequest, UpgradeResponse, Url,
};

/// How much one read of a head asks for.
const HEAD_READ: usize = 4096;

/// Reads an upgrade request from `stream` and accepts it with the default [`Config`] (no
/// subprotocol). A request that is not a valid upgrade is refused with
/// `HttpResponse::from(&error)` (400, 426...; 426 for a plain HTTP request) and the error is
/// returned.
pub async fn accept<S>(stream: S) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(stream, &Config::default(), |_| Ok(Accept::new())).await
}

/// Reads an upgrade request from `stream` and lets `decide` answer it: an [`Accept`]
/// (subprotocol, headers), or the [`HttpResponse`] that refuses it (401, 403...), which is
/// written before [`Error::Refused`] is returned.
///
/// ```no_run
/// use rfc6455::handshake::{Accept, HttpResponse};
/// use rfc6455::Config;
///
/// # async fn serve(tcp: tokio::net::TcpStream) -> Result<(), rfc6455::Error> {
/// let socket = rfc6455::tokio::accept_with(tcp, &Config::default(), |request| {
///     match request.header("Authorization") {
///         Some(_) => Ok(Accept::new()),
///         None => Err(HttpResponse::text(401, "a token is required")),
///     }
/// })
/// .await?;
/// # drop(socket);
/// # Ok(())
/// # }
/// ```
pub async fn accept_with<S, F>(
    mut stream: S,
    config: &Config,
    decide: F,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&UpgradeRequest) -> Result<Accept, HttpResponse>,
{
    let read = read_request(&mut stream, config);
    let incoming = match ::tokio::time::timeout(config.handshake_timeout, read).await {
        Ok(incoming) => incoming?,
        Err(_) => return Err(Timeout::Handshake.into()),
    };
    let upgrade = match incoming {
        Ok(Incoming::Upgrade(upgrade)) => upgrade,
        Ok(Incoming::Http(_)) => {
            let error = HandshakeError::UpgradeNotWebSocket;
            refuse(&mut stream, &HttpResponse::from(&error)).await;
            return Err(error.into());
        }
        Err(error) => {
            refuse(&mut stream, &HttpResponse::from(&error)).await;
            return Err(error.into());
        }
    };
    let accept = match decide(&upgrade) {
        Ok(accept) => accept,
        Err(response) => {
            refuse(&mut stream, &response).await;
            return Err(Error::Refused(response.status()));
        }
    };
    let (response, connection) = match upgrade.accept(&accept, config) {
        Ok(accepted) => accepted,
        Err(error) => {
            refuse(&mut stream, &HttpResponse::internal_error(&error)).await;
            return Err(error.into());
        }
    };
    stream.write_all(&response).await?;
    stream.flush().await?;
    Ok(WebSocketStream::from_connection(stream, connection, config))
}

/// Reads until the request head is complete: the classified request, or why the head was
/// refused (the outer error is the transport's).
async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    config: &Config,
) -> Result<Result<Incoming, HandshakeError>, Error> {
    let mut handshake = ServerHandshake::new(config);
    let mut buffer = [0u8; HEAD_READ];
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
        match handshake.receive(buffer.get(..n).unwrap_or_default()) {
            Ok(None) => {}
            Ok(Some(incoming)) => return Ok(Ok(incoming)),
            Err(error) => return Ok(Err(error)),
        }
    }
}

/// Writes the response that refuses an upgrade, and shuts the transport down.
async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, response: &HttpResponse) {
    let bytes = response
        .encode()
        .unwrap_or_else(|error| HttpResponse::internal_error(&error).encode_checked());
    // The handshake failed already; a failed write of the refusal changes nothing.
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}

/// Connects to a `ws://` URL with the default [`Config`].
pub async fn connect(url: &str) -> Result<(WebSocketStream<TcpStream>, UpgradeResponse), Error> {
    let url = Url::parse(url)?;
    connect_with(&url, &ClientRequest::from_url(&url), &Config::default()).await
}

/// Connects to `url` with a custom request (subprotocols, headers) and limits; `ws://`
/// only (`connect_tls` does `wss://`, with the feature `tokio-tls`).
pub async fn connect_with(
    url: &Url,
    request: &ClientRequest,
    config: &Config,
) -> Result<(WebSocketStream<TcpStream>, UpgradeResponse), Error> {
    if url.is_secure() {
        let hint = "wss:// in the tokio adapter: connect_tls (feature tokio-tls)";
        return Err(UsageError::InvalidUrl(hint).into());
    }
    let connecting = TcpStream::connect(url.authority());
    let stream = match ::tokio::time::timeout(config.handshake_timeout, connecting).await {
        Ok(stream) => stream?,
        Err(_) => return Err(Timeout::Handshake.into()),
    };
    stream.set_nodelay(true)?;
    client(stream, request, config).await
}

/// Runs the client handshake over `stream` (a TCP stream, a TLS stream, anything).
pub async fn client<S>(
    mut stream: S,
    request: &ClientRequest,
    config: &Config,
) -> Result<(WebSocketStream<S>, UpgradeResponse), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut handshake = ClientHandshake::new(request, config)?;
    let exchange = async {
        stream.write_all(handshake.request()).await?;
        stream.flush().await?;
        let mut buffer = [0u8; HEAD_READ];
        loop {
            let n = stream.read(&mut buffer).await?;
            if n == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
            }
            if let Some(done) = handshake.receive(buffer.get(..n).unwrap_or_default())? {
                return Ok::<_, Error>(done);
            }
        }
    };
    let (response, connection) =
        match ::tokio::time::timeout(config.handshake_timeout, exchange).await {
            Ok(done) => done?,
            Err(_) => return Err(Timeout::Handshake.into()),
        };
    Ok((
        WebSocketStream::from_connection(stream, connection, config),
        response,
    ))
}
