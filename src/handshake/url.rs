//! [`Url`]: the `ws://` and `wss://` URLs of RFC 6455 section 3.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::error::UsageError;

/// A parsed `ws://host[:port][/path][?query]` or `wss://...` URL.
///
/// ```
/// use rfc6455::handshake::Url;
/// let url = Url::parse("ws://example.com:8080/chat?room=1").unwrap();
/// assert_eq!((url.host(), url.port(), url.resource()), ("example.com", 8080, "/chat?room=1"));
/// assert_eq!(url.authority(), "example.com:8080");
/// let url = Url::parse("wss://[::1]").unwrap();
/// assert_eq!((url.is_secure(), url.port(), url.resource()), (true, 443, "/"));
/// assert_eq!(url.authority(), "[::1]:443");
/// assert!(Url::parse("ws://host/path#fragment").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    secure: bool,
    host: String,
    port: u16,
    explicit_port: bool,
    resource: String,
}

impl Url {
    /// Parses a WebSocket URL. Refuses other schemes, fragments, user info, and
    /// characters that are not visible ASCII (percent-encode them).
    pub fn parse(url: &str) -> Result<Url, UsageError> {
        let (secure, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "ws://") {
            (false, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "wss://") {
            (true, rest)
        } else {
            return Err(UsageError::InvalidUrl("the scheme must be ws:// or wss://"));
        };
        if rest.contains('#') {
            return Err(UsageError::InvalidUrl("fragments are not allowed"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UsageError::InvalidUrl("user info is not supported"));
        }
        let (host, port) = split_host_port(authority)?;
        let resource = match resource {
            "" => "/".to_owned(),
            query if query.starts_with('?') => format!("/{query}"),
            path => path.to_owned(),
        };
        if !resource.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UsageError::InvalidUrl(
                "the path may only hold visible ASCII (percent-encode the rest)",
            ));
        }
        let default_port = if secure { 443 } else { 80 };
        Ok(Url {
            secure,
            host: host.to_owned(),
            port: port.unwrap_or(default_port),
            explicit_port: port.is_some_and(|port| port != default_port),
            resource,
        })
    }

    /// True for `wss://`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host, with brackets around an IPv6 address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (80 or 443 when the URL gives none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path and query: the request target, `/` at least.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// `host:port`, what a socket connects to (resolve it with `ToSocketAddrs`).
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The `Host` header value: the host, and the port unless it is the default.
    pub fn host_header(&self) -> String {
        if self.explicit_port {
            self.authority()
        } else {
            self.host.clone()
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), UsageError> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority
            .find(']')
            .ok_or(UsageError::InvalidUrl("unterminated IPv6 address"))?;
        let (host, after) = authority.split_at(end + 1);
        let inner = host.get(1..host.len() - 1).unwrap_or_default();
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(UsageError::InvalidUrl("invalid IPv6 address"));
        }
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(UsageError::InvalidUrl("junk after the IPv6 address")),
            },
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
    if !host_ok {
        return Err(UsageError::InvalidUrl("invalid host"));
    }
    let port = match port {
        None => None,
        Some(port) => Some(
            Some(port)
                .filter(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|port| port.parse::<u16>().ok())
                .filter(|&port| port != 0)
                .ok_or(UsageError::InvalidUrl("invalid port"))?,
        ),
    };
    Ok((host, port))
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let url = Url::parse("WS://localhost:9001").unwrap();
        assert_eq!(url.authority(), "localhost:9001");
        assert_eq!(url.host_header(), "localhost:9001");
        assert_eq!(url.resource(), "/");
        let url = Url::parse("ws://h?x=1").unwrap();
        assert_eq!(
            (url.resource(), url.host_header()),
            ("/?x=1", "h".to_owned())
        );
        let url = Url::parse("ws://h:80/a").unwrap();
        assert_eq!(url.host_header(), "h");
        let url = Url::parse("ws://[::1]:9001/p").unwrap();
        assert_eq!((url.host(), url.port()), ("[::1]", 9001));
    }

    #[test]
    fn refuses_bad_urls() {
        for bad in [
            "http://h/",
            "ws://",
            "ws://:80/",
            "ws://h:0/",
            "ws://h:65536/",
            "ws://h:+80/",
            "ws://h:x/",
            "ws://u@h/",
            "ws://h/a b",
            "ws://h/a\r\nX: y",
            "ws://h\r\n/",
            "ws://h/é",
            "ws://[::1/",
            "ws://[zz]/",
            "ws://[::1]x/",
            "ws://h/#f",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad:?}");
        }
    }
}
