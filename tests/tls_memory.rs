//! What an idle TLS session costs (feature `tls`): a rustls server session on the
//! unbuffered API, as the runtime drives it, from the crate's `TlsAcceptor`, after a full
//! handshake and one message each way with a rustls client, in memory, measured with the
//! counting allocator. The runtime keeps no buffer of its own for an idle session
//! (runtime/tls_session.rs), so this is what one costs: rustls' state and keys.
#![cfg(feature = "tls")]

mod support;

use std::io::{Read, Write};
use std::sync::Arc;

use rfc6455::tls::{TlsAcceptor, TlsConnector};
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::ConnectionState;
use support::{certs, counting};

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// The server's side: feeds `incoming` to the session, returns the records it sends and
/// the application data it decrypted. `reply` is encrypted once the session may send.
fn serve(
    server: &mut UnbufferedServerConnection,
    incoming: &mut Vec<u8>,
    mut reply: Option<&[u8]>,
) -> (Vec<u8>, Vec<u8>) {
    let (mut records, mut plaintext) = (Vec::new(), Vec::new());
    loop {
        let status = server.process_tls_records(incoming);
        let discard = status.discard;
        let mut room = [0u8; 8192];
        let waiting = match status.state.unwrap() {
            ConnectionState::ReadTraffic(mut traffic) => {
                while let Some(record) = traffic.next_record() {
                    plaintext.extend_from_slice(record.unwrap().payload);
                }
                false
            }
            ConnectionState::EncodeTlsData(mut encode) => {
                let n = encode.encode(&mut room).unwrap();
                records.extend_from_slice(&room[..n]);
                false
            }
            ConnectionState::TransmitTlsData(transmit) => {
                transmit.done();
                false
            }
            ConnectionState::WriteTraffic(mut traffic) => {
                if let Some(message) = reply.take() {
                    let n = traffic.encrypt(message, &mut room).unwrap();
                    records.extend_from_slice(&room[..n]);
                }
                true
            }
            ConnectionState::BlockedHandshake => true,
            other => panic!("unexpected state {other:?}"),
        };
        incoming.drain(..discard);
        if waiting {
            return (records, plaintext);
        }
    }
}

/// What the client has to send.
fn client_records(client: &mut rustls::ClientConnection) -> Vec<u8> {
    let mut wire = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut wire).unwrap();
    }
    wire
}

#[test]
fn an_idle_tls_session_costs_rustls_state_and_keys_and_no_buffer() {
    let certs = certs::localhost();
    let acceptor = TlsAcceptor::from_pem(certs.chain.as_bytes(), certs.key.as_bytes()).unwrap();
    let connector = TlsConnector::with_ca_pem(certs.ca.as_bytes()).unwrap();
    let before = counting::live();
    let mut server = UnbufferedServerConnection::new(acceptor.config().clone()).unwrap();
    let name = "localhost".try_into().unwrap();
    let mut client = rustls::ClientConnection::new(Arc::clone(connector.config()), name).unwrap();
    let mut to_server = Vec::new();
    while client.is_handshaking() {
        to_server.extend(client_records(&mut client));
        let (records, _) = serve(&mut server, &mut to_server, None);
        let mut rest = &records[..];
        while !rest.is_empty() {
            client.read_tls(&mut rest).unwrap();
            client.process_new_packets().unwrap();
        }
    }
    // One small message each way, read to the end: the steady state of an idle socket.
    client.writer().write_all(b"a WebSocket frame").unwrap();
    to_server.extend(client_records(&mut client));
    let (records, plaintext) = serve(&mut server, &mut to_server, Some(b"and its echo"));
    assert_eq!(plaintext, b"a WebSocket frame");
    let mut rest = &records[..];
    while !rest.is_empty() {
        client.read_tls(&mut rest).unwrap();
        client.process_new_packets().unwrap();
    }
    let mut echo = [0u8; 64];
    assert_eq!(client.reader().read(&mut echo).unwrap(), 12);
    assert!(to_server.is_empty(), "every record was processed");
    // TLS 1.3 sends session tickets after the handshake; the client keeps them, not the
    // server. Drop the client and the wire first, so that what is left is the server's.
    drop((client, to_server, records));
    let held = counting::live() - before;
    let inline = std::mem::size_of::<UnbufferedServerConnection>();
    let freed = counting::freed_by_dropping(Box::new(server));
    println!(
        "an idle rustls server session (unbuffered): {freed} bytes ({inline} inline, {} on \
         the heap); {held} bytes more live than before the session",
        freed - inline as isize
    );
    assert!(
        held >= freed - inline as isize - 64,
        "held {held}, freed {freed}"
    );
    // Its state and two record keys; rustls' buffered API would add a 4 KiB read buffer.
    assert!(freed < 4 * 1024, "an idle session holds {freed} bytes");
}
