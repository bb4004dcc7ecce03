//! Negotiating permessage-deflate (RFC 7692 section 7.1): reading offers and answering
//! them on the server, offering and checking the answer on the client.

use super::{Agreed, DeflateConfig, MIN_WINDOW_BITS};
use crate::error::HandshakeError;
use crate::extension::Extension;

/// The extension's registered name.
pub(crate) const NAME: &str = "permessage-deflate";

/// The parameters of one offer or response, checked for form: each at most once, the
/// takeover ones without a value, window bits from 8 to 15.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// `Some(bits)` when present (a value is required).
    server_max_window_bits: Option<u8>,
    /// `Some(None)` when present without a value.
    client_max_window_bits: Option<Option<u8>>,
}

fn parse_bits(value: &str) -> Option<u8> {
    // RFC 7692 7.1.2: 1*DIGIT, no leading zero, 8 to 15.
    let bits: u8 = value.parse().ok()?;
    ((8..=15).contains(&bits) && !value.starts_with('0')).then_some(bits)
}

fn parse(extension: &Extension) -> Option<Params> {
    let mut params = Params::default();
    for (name, value) in &extension.params {
        match (name.to_ascii_lowercase().as_str(), value.as_deref()) {
            ("server_no_context_takeover", None) if !params.server_no_context_takeover => {
                params.server_no_context_takeover = true;
            }
            ("client_no_context_takeover", None) if !params.client_no_context_takeover => {
                params.client_no_context_takeover = true;
            }
            ("server_max_window_bits", Some(value)) if params.server_max_window_bits.is_none() => {
                params.server_max_window_bits = Some(parse_bits(value)?);
            }
            ("client_max_window_bits", value) if params.client_max_window_bits.is_none() => {
                params.client_max_window_bits = Some(match value {
                    Some(value) => Some(parse_bits(value)?),
                    None => None,
                });
            }
            _ => return None,
        }
    }
    Some(params)
}

/// The server's choice among the client's offers: the first permessage-deflate offer it
/// can honor, the response to send, and what was agreed. Offers it cannot honor (unknown
/// or repeated parameters, bad values, a compression window below 9 bits, which zlib cannot
/// produce) are skipped, as RFC 7692 allows.
pub(crate) fn server_respond(
    offers: &[Extension],
    config: &DeflateConfig,
) -> Option<(Extension, Agreed)> {
    offers
        .iter()
        .filter(|offer| offer.name.eq_ignore_ascii_case(NAME))
        .find_map(|offer| {
            let offer = parse(offer)?;
            let own_window = offer
                .server_max_window_bits
                .map_or(config.max_window_bits, |bits| {
                    bits.min(config.max_window_bits)
                });
            if own_window < MIN_WINDOW_BITS {
                return None;
            }
            let own_reset = offer.server_no_context_takeover || !config.own_context_takeover;
            let peer_reset = offer.client_no_context_takeover || !config.peer_context_takeover;
            let mut response = Extension::new(NAME);
            if own_reset {
                response = response.with_param("server_no_context_takeover", None);
            }
            if peer_reset {
                response = response.with_param("client_no_context_takeover", None);
            }
            if offer.server_max_window_bits.is_some() {
                let bits = own_window.to_string();
                response = response.with_param("server_max_window_bits", Some(&bits));
            }
            Some((
                response,
                Agreed {
                    own_window_bits: own_window,
                    own_no_context_takeover: own_reset,
                    peer_no_context_takeover: peer_reset,
                },
            ))
        })
}

/// What a client offers.
pub(crate) fn client_offer(config: &DeflateConfig) -> Extension {
    let mut offer = Extension::new(NAME).with_param("client_max_window_bits", None);
    if !config.own_context_takeover {
        offer = offer.with_param("client_no_context_takeover", None);
    }
    if !config.peer_context_takeover {
        offer = offer.with_param("server_no_context_takeover", None);
    }
    offer
}

/// Checks the server's answer to [`client_offer`] and returns what was agreed.
pub(crate) fn client_accept(
    response: &[Extension],
    config: &DeflateConfig,
) -> Result<Option<Agreed>, HandshakeError> {
    let mut accepted = response
        .iter()
        .filter(|extension| extension.name.eq_ignore_ascii_case(NAME));
    let Some(extension) = accepted.next() else {
        return Ok(None);
    };
    if accepted.next().is_some() {
        return Err(HandshakeError::MalformedHeaderValue(
            "Sec-WebSocket-Extensions",
        ));
    }
    let params = parse(extension).ok_or(HandshakeError::MalformedHeaderValue(
        "Sec-WebSocket-Extensions",
    ))?;
    // We offered client_max_window_bits without a value: the server may lower our window,
    // but not below what zlib can produce.
    let own_window = match params.client_max_window_bits {
        Some(Some(bits)) if bits < MIN_WINDOW_BITS => {
            return Err(HandshakeError::UnsupportedExtensionParameter(
                "client_max_window_bits=8 (zlib cannot compress with a 256-byte window)",
            ));
        }
        Some(Some(bits)) => bits.min(config.max_window_bits),
        Some(None) => {
            return Err(HandshakeError::MalformedHeaderValue(
                "Sec-WebSocket-Extensions",
            ));
        }
        None => config.max_window_bits,
    };
    Ok(Some(Agreed {
        own_window_bits: own_window,
        own_no_context_takeover: params.client_no_context_takeover || !config.own_context_takeover,
        peer_no_context_takeover: params.server_no_context_takeover,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(params: &[(&str, Option<&str>)]) -> Extension {
        params
            .iter()
            .fold(Extension::new(NAME), |e, (n, v)| e.with_param(*n, *v))
    }

    fn respond(offers: &[Extension]) -> Option<(String, Agreed)> {
        server_respond(offers, &DeflateConfig::default())
            .map(|(response, agreed)| (response.to_string(), agreed))
    }

    fn with_takeover() -> DeflateConfig {
        DeflateConfig {
            own_context_takeover: true,
            peer_context_takeover: true,
            ..DeflateConfig::default()
        }
    }

    #[test]
    fn accepts_a_plain_offer_and_asks_for_no_context_takeover_by_default() {
        let (response, agreed) = respond(&[offer(&[])]).unwrap();
        assert_eq!(
            response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        assert_eq!(
            agreed,
            Agreed {
                own_window_bits: 15,
                own_no_context_takeover: true,
                peer_no_context_takeover: true
            }
        );
    }

    #[test]
    fn each_parameter_is_honored() {
        let config = with_takeover();
        let respond = |params: &[(&str, Option<&str>)]| {
            server_respond(&[offer(params)], &config).map(|(r, a)| (r.to_string(), a))
        };
        let (response, agreed) = respond(&[]).unwrap();
        assert_eq!(response, "permessage-deflate");
        assert!(!agreed.own_no_context_takeover && !agreed.peer_no_context_takeover);
        let (response, agreed) = respond(&[("server_no_context_takeover", None)]).unwrap();
        assert_eq!(response, "permessage-deflate; server_no_context_takeover");
        assert!(agreed.own_no_context_takeover);
        let (response, agreed) = respond(&[("client_no_context_takeover", None)]).unwrap();
        assert_eq!(response, "permessage-deflate; client_no_context_takeover");
        assert!(agreed.peer_no_context_takeover);
        let (response, agreed) = respond(&[("server_max_window_bits", Some("10"))]).unwrap();
        assert_eq!(response, "permessage-deflate; server_max_window_bits=10");
        assert_eq!(agreed.own_window_bits, 10);
        // client_max_window_bits (with or without a value) needs no answer: we inflate with
        // a 32 KiB window, enough for any window the client uses.
        for value in [None, Some("9"), Some("15")] {
            let (response, _) = respond(&[("client_max_window_bits", value)]).unwrap();
            assert_eq!(response, "permessage-deflate");
        }
    }

    #[test]
    fn refuses_offers_it_cannot_honor_and_falls_back() {
        let config = with_takeover();
        for bad in [
            offer(&[("server_max_window_bits", Some("8"))]), // zlib's window-8 quirk
            offer(&[("server_max_window_bits", Some("16"))]),
            offer(&[("server_max_window_bits", Some("7"))]),
            offer(&[("server_max_window_bits", Some("010"))]),
            offer(&[("server_max_window_bits", None)]),
            offer(&[("client_max_window_bits", Some("x"))]),
            offer(&[("server_no_context_takeover", Some("1"))]),
            offer(&[
                ("server_no_context_takeover", None),
                ("server_no_context_takeover", None),
            ]),
            offer(&[("unknown_parameter", None)]),
        ] {
            assert_eq!(
                server_respond(std::slice::from_ref(&bad), &config),
                None,
                "{bad}"
            );
            // With a good offer after it, the good one is chosen.
            let (response, _) = server_respond(
                &[bad.clone(), offer(&[("client_no_context_takeover", None)])],
                &config,
            )
            .unwrap();
            assert_eq!(
                response.to_string(),
                "permessage-deflate; client_no_context_takeover"
            );
        }
        assert_eq!(
            server_respond(&[Extension::new("x-webkit-deflate-frame")], &config),
            None
        );
    }

    #[test]
    fn our_window_is_never_above_the_configured_one() {
        let config = DeflateConfig {
            max_window_bits: 11,
            ..with_takeover()
        };
        let (_, agreed) = server_respond(&[offer(&[])], &config).unwrap();
        assert_eq!(agreed.own_window_bits, 11);
        let (response, agreed) =
            server_respond(&[offer(&[("server_max_window_bits", Some("13"))])], &config).unwrap();
        assert_eq!(agreed.own_window_bits, 11);
        assert_eq!(
            response.to_string(),
            "permessage-deflate; server_max_window_bits=11"
        );
    }

    #[test]
    fn the_client_checks_the_answer() {
        let config = DeflateConfig::default();
        assert_eq!(
            client_offer(&config).to_string(),
            "permessage-deflate; client_max_window_bits; client_no_context_takeover; \
             server_no_context_takeover"
        );
        let agreed = client_accept(&[offer(&[("server_no_context_takeover", None)])], &config)
            .unwrap()
            .unwrap();
        assert!(agreed.peer_no_context_takeover && agreed.own_no_context_takeover);
        let agreed = client_accept(&[offer(&[("client_max_window_bits", Some("10"))])], &config)
            .unwrap()
            .unwrap();
        assert_eq!(agreed.own_window_bits, 10);
        assert_eq!(client_accept(&[], &config).unwrap(), None);
        for bad in [
            offer(&[("client_max_window_bits", Some("8"))]),
            offer(&[("client_max_window_bits", None)]),
            offer(&[("server_max_window_bits", Some("20"))]),
            offer(&[("mystery", None)]),
        ] {
            assert!(
                client_accept(std::slice::from_ref(&bad), &config).is_err(),
                "{bad}"
            );
        }
        assert!(client_accept(&[offer(&[]), offer(&[])], &config).is_err());
    }
}
