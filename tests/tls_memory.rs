//! What an idle TLS session costs (feature `tls`): a rustls server session from the
//! crate's `TlsAcceptor`, after a full handshake and one message each way, in memory with
//! a rustls client, measured with the counting allocator.
#![cfg(feature = "tls")]

mod support;

use std::io::{Read, Write};
use std::sync::Arc;

use rfc6455::tls::{TlsAcceptor, TlsConnector};
use support::{certs, counting};

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// Moves every record `from` has to send into `to`, and lets `to` process them.
fn transfer(from: &mut rustls::Connection, to: &mut rustls::Connection) {
    let mut wire = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut wire).unwrap();
    }
    let mut rest = &wire[..];
    while !rest.is_empty() {
        to.read_tls(&mut rest).unwrap();
        to.process_new_packets().unwrap();
    }
}

/// One small message from `from` to `to`, read to the end.
fn message(from: &mut rustls::Connection, to: &mut rustls::Connection) {
    from.writer().write_all(b"a WebSocket frame").unwrap();
    transfer(from, to);
    let mut plaintext = [0u8; 64];
    assert_eq!(to.reader().read(&mut plaintext).unwrap(), 17);
}

#[test]
fn an_idle_tls_session_costs_its_struct_its_keys_and_the_read_buffer_rustls_keeps() {
    let certs = certs::localhost();
    let acceptor = TlsAcceptor::from_pem(certs.chain.as_bytes(), certs.key.as_bytes()).unwrap();
    let connector = TlsConnector::with_ca_pem(certs.ca.as_bytes()).unwrap();
    let before = counting::live();
    let mut server: rustls::Connection = rustls::ServerConnection::new(acceptor.config().clone())
        .unwrap()
        .into();
    let name = "localhost".try_into().unwrap();
    let mut client: rustls::Connection =
        rustls::ClientConnection::new(Arc::clone(connector.config()), name)
            .unwrap()
            .into();
    while client.is_handshaking() || server.is_handshaking() {
        transfer(&mut client, &mut server);
        transfer(&mut server, &mut client);
    }
    // One small message each way, read to the end: the steady state of an idle socket.
    message(&mut client, &mut server);
    message(&mut server, &mut client);
    // TLS 1.3 sends session tickets after the handshake; the client keeps them, not the
    // server. Drop the client first, so that what is left is the server's alone.
    drop(client);
    let held = counting::live() - before;
    let inline = std::mem::size_of::<rustls::Connection>();
    let freed = counting::freed_by_dropping(Box::new(server));
    println!(
        "an idle rustls server session: {} bytes ({inline} inline, {} on the heap)",
        freed.max(held),
        freed.max(held) - inline as isize
    );
    assert!(
        held >= freed - inline as isize - 64,
        "held {held}, freed {freed}"
    );
    // rustls' buffered API keeps a 4 KiB read buffer once it has read; the rest is the
    // session's state and keys.
    assert!(freed < 16 * 1024, "an idle session holds {freed} bytes");
}
