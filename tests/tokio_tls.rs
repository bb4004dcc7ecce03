//! The tokio adapter over TLS (feature `tokio-tls`): `accept_tls` and `connect_tls` with
//! tokio-rustls, against each other and against the mio runtime's TLS server, with
//! certificates made at test time.

#![cfg(feature = "tokio-tls")]

mod support;

use rfc6455::events::{Handlers, Server};
use rfc6455::handshake::{Accept, ClientRequest, Url};
use rfc6455::tls::{TlsAcceptor, TlsConnector, TlsError};
use rfc6455::tokio::{ClientTlsStream, WebSocketStream, accept_tls, connect_tls};
use rfc6455::{CloseCode, Config, Error, Message};
use tokio::net::TcpListener;

use support::certs;

async fn connect(url: &str, tls: &TlsConnector) -> Result<WebSocketStream<ClientTlsStream>, Error> {
    let url = Url::parse(url)?;
    let request = ClientRequest::from_url(&url);
    Ok(connect_tls(&url, &request, &Config::default(), tls)
        .await?
        .0)
}

async fn round_trips(socket: &mut WebSocketStream<ClientTlsStream>) {
    for size in [0, 125, 126, 65_536, 1 << 20] {
        socket.send(vec![7u8; size]).await.unwrap();
        match socket.recv().await.unwrap().unwrap() {
            Message::Binary(echoed) => assert_eq!(echoed.len(), size),
            other => panic!("{other:?}"),
        }
    }
    socket.send("over tls").await.unwrap();
    let echoed = socket.recv().await.unwrap().unwrap();
    assert_eq!(echoed.as_text(), Some("over tls"));
}

#[tokio::test]
async fn accept_tls_and_connect_tls_echo_and_close() {
    let certs = certs::localhost();
    let acceptor = TlsAcceptor::from_pem(certs.chain.as_bytes(), certs.key.as_bytes()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut socket = accept_tls(tcp, &acceptor, &Config::default(), |_| Ok(Accept::new()))
            .await
            .unwrap();
        while let Some(message) = socket.recv().await {
            socket.send(message.unwrap()).await.unwrap();
        }
    });
    let tls = TlsConnector::with_ca_pem(certs.ca.as_bytes()).unwrap();
    let mut socket = connect(&format!("wss://localhost:{port}/"), &tls)
        .await
        .unwrap();
    round_trips(&mut socket).await;
    socket.close(CloseCode::NORMAL, "bye").await.unwrap();
    assert!(socket.recv().await.is_none());
    server.await.unwrap();
}

#[tokio::test]
async fn connect_tls_talks_to_the_runtime_server_and_refuses_an_unknown_ca() {
    let certs = certs::localhost();
    let acceptor = TlsAcceptor::from_pem(certs.chain.as_bytes(), certs.key.as_bytes()).unwrap();
    let handlers = Handlers::<()>::new().on_message(|socket, message| {
        let _ = socket.send(message);
    });
    let server = Server::new(handlers)
        .bind_tls("127.0.0.1:0", acceptor)
        .unwrap()
        .spawn()
        .unwrap();
    let url = format!("wss://127.0.0.1:{}/", server.local_addr().unwrap().port());
    let tls = TlsConnector::with_ca_pem(certs.ca.as_bytes()).unwrap();
    let mut socket = connect(&url, &tls).await.unwrap();
    round_trips(&mut socket).await;
    socket.close(CloseCode::NORMAL, "").await.unwrap();
    drop(socket);

    let stranger = TlsConnector::with_ca_pem(certs::localhost().ca.as_bytes()).unwrap();
    let error = connect(&url, &stranger).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Tls(TlsError::Certificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ),
        "{error:?}"
    );
    tokio::task::spawn_blocking(move || server.shutdown().unwrap())
        .await
        .unwrap();
}
