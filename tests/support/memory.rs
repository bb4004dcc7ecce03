//! The sans-IO core back to back in memory: a handshake between a client and a server
//! connection, and moving bytes from one to the other.

use std::io::IoSlice;

use rfc6455::handshake::{
    Accept, ClientHandshake, ClientRequest, Incoming, ServerHandshake, UpgradeResponse,
};
use rfc6455::{Config, Connection, Event};

/// A handshake in memory: the server accepts what `accept` says; returns the client's view
/// of the response, the client connection and the server connection.
pub fn handshake(
    request: &ClientRequest,
    accept: &Accept,
    client: &Config,
    server: &Config,
) -> (UpgradeResponse, Connection, Connection) {
    let mut client_handshake = ClientHandshake::new(request, client).expect("request");
    let Some(Incoming::Upgrade(upgrade)) = ServerHandshake::new(server)
        .receive(client_handshake.request())
        .expect("a valid request")
    else {
        panic!("not an upgrade")
    };
    let (response, server) = upgrade.accept(accept, server).expect("accept");
    let (response, client) = client_handshake
        .receive(&response)
        .expect("a valid response")
        .expect("a complete response");
    (response, client, server)
}

/// A client and a server connection, each with its own configuration.
pub fn pair(client: &Config, server: &Config) -> (Connection, Connection) {
    let request = ClientRequest::new("localhost", "/");
    let (_, client, server) = handshake(&request, &Accept::new(), client, server);
    (client, server)
}

/// Everything `connection` has pending, in order, without taking it.
pub fn output(connection: &Connection) -> Vec<u8> {
    let mut slices = [IoSlice::new(&[]); 64];
    let count = connection.output_slices(&mut slices);
    slices[..count]
        .iter()
        .flat_map(|s| s.iter().copied())
        .collect()
}

/// Takes everything `connection` has pending, as a transport that writes it all would.
pub fn drain(connection: &mut Connection) -> Vec<u8> {
    let mut all = Vec::new();
    while connection.buffered_amount() > 0 {
        let pending = output(connection);
        connection.advance_output(pending.len());
        all.extend(pending);
    }
    all
}

/// Moves `from`'s output into `to`, `chunk` bytes at a time, taking `to`'s events after
/// each chunk.
pub fn pump_in_chunks(from: &mut Connection, to: &mut Connection, chunk: usize) -> Vec<Event> {
    let wire = drain(from);
    let mut events = Vec::new();
    for piece in wire.chunks(chunk.max(1)) {
        to.receive(piece);
        while let Some(event) = to.poll_event().expect("no protocol error") {
            events.push(event);
        }
    }
    events
}
