//! The sans-IO core through its public API only: a client and a server wired back to back
//! in memory, from the handshake to the close handshake.

mod support;

use rfc6455::handshake::{Accept, ClientRequest};
use rfc6455::{CloseCode, CloseFrame, Config, Connection, Event, Message, MessageKind, State};
use support::memory::{drain, handshake, pump_in_chunks as pump};

fn connect(config: &Config) -> (Connection, Connection) {
    let request = ClientRequest::new("localhost", "/chat").protocol("chat");
    let accept = Accept::new().protocol("chat");
    let (response, client, server) = handshake(&request, &accept, config, config);
    assert_eq!(response.protocol(), Some("chat"));
    (client, server)
}

#[test]
fn messages_flow_both_ways_in_any_chunking() {
    for chunk in [1, 2, 3, 7, 64, 1 << 20] {
        let (mut client, mut server) = connect(&Config::default());
        client.send("hello").unwrap();
        client.send(vec![9u8; 70_000]).unwrap();
        client
            .send_fragment(MessageKind::Text, "frag".as_bytes(), false)
            .unwrap();
        client.ping(b"p").unwrap();
        client
            .send_fragment(MessageKind::Text, "mented".as_bytes(), true)
            .unwrap();
        let events = pump(&mut client, &mut server, chunk);
        assert_eq!(events.len(), 4, "chunk {chunk}");
        assert!(matches!(&events[0], Event::Message(Message::Text(t)) if t == "hello"));
        assert!(matches!(&events[1], Event::Message(Message::Binary(b)) if b.len() == 70_000));
        assert!(matches!(&events[2], Event::Ping(p) if &p[..] == b"p"));
        assert!(matches!(&events[3], Event::Message(Message::Text(t)) if t == "fragmented"));
        // The server's automatic pong reaches the client.
        let events = pump(&mut server, &mut client, chunk);
        assert!(matches!(&events[..], [Event::Pong(p)] if &p[..] == b"p"));
    }
}

#[test]
fn close_handshake_completes_on_both_sides() {
    let (mut client, mut server) = connect(&Config::default());
    client.close(CloseCode::GOING_AWAY, "bye").unwrap();
    assert_eq!(client.state(), State::CloseSent);
    let events = pump(&mut client, &mut server, 5);
    assert_eq!(
        events,
        [Event::Close(CloseFrame::new(CloseCode::GOING_AWAY, "bye"))]
    );
    assert_eq!(server.state(), State::Closed);
    let events = pump(&mut server, &mut client, 5);
    assert_eq!(
        events,
        [Event::Close(CloseFrame::new(CloseCode::GOING_AWAY, ""))]
    );
    assert_eq!(client.state(), State::Closed);
}

#[test]
fn a_limit_crossed_by_the_peer_fails_with_1009_and_the_peer_sees_it() {
    let config = Config {
        max_message_size: 1000,
        ..Config::default()
    };
    let (mut client, mut server) = connect(&config);
    client.send(&[0; 1001]).unwrap();
    server.receive(&drain(&mut client));
    let error = server.poll_event().unwrap_err();
    assert_eq!(error.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    assert_eq!(server.state(), State::Failed);
    let events = pump(&mut server, &mut client, 1 << 20);
    assert!(
        matches!(&events[..], [Event::Close(frame)] if frame.code == CloseCode::MESSAGE_TOO_BIG)
    );
}
