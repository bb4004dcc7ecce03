//! TLS for `wss://` (feature `tls`): [`TlsAcceptor`] for servers, [`TlsConnector`] for
//! clients, and [`TlsError`]. Both are rustls configurations built on the *ring* crypto
//! provider, chosen here explicitly, so no process-wide provider has to be installed first.
//!
//! The sans-IO core knows nothing of TLS: the runtime ([`Server::bind_tls`], [`Client`])
//! and the blocking driver wrap their sockets with these.
//!
//! [`Server::bind_tls`]: crate::events::Server::bind_tls
//! [`Client`]: crate::events::Client
//!
//! ```no_run
//! use rfc6455::events::{Handlers, Server};
//! use rfc6455::tls::TlsAcceptor;
//!
//! let tls = TlsAcceptor::from_pem_files("cert.pem", "key.pem")?;
//! let handlers = Handlers::<()>::new().on_message(|socket, message| {
//!     let _ = socket.send(message);
//! });
//! let mut loops = Server::new(handlers).bind_tls("127.0.0.1:8443", tls)?; // wss://
//! loops.listen("127.0.0.1:8080")?; // and ws:// beside it
//! loops.run()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use crate::error::TlsError;
#[cfg(test)]
use crate::error::tls_error_in;
use rustls::client::UnbufferedClientConnection;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::UnbufferedServerConnection;
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig};

/// The crypto provider every configuration here is built on: *ring* (it builds with a C
/// compiler alone, and rustls then needs no process-level provider).
///
/// rustls 0.23.48 deprecated `ring::default_provider` because *ring* has no post-quantum
/// key exchange (X25519MLKEM768 is aws-lc-rs's). The provider works as before (X25519,
/// P-256, P-384); moving to aws-lc-rs (cmake and a larger C build) for post-quantum key
/// exchange is a decision of its own, not one a patch release should make for us.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The protocol versions offered: TLS 1.3 and 1.2.
fn versions() -> &'static [&'static rustls::SupportedProtocolVersion] {
    rustls::DEFAULT_VERSIONS
}

/// A server's TLS identity and settings: what [`Server::bind_tls`] and
/// [`Loops::listen_tls`] take. Cheap to clone.
///
/// [`Server::bind_tls`]: crate::events::Server::bind_tls
/// [`Loops::listen_tls`]: crate::events::Loops::listen_tls
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("alpn", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

impl TlsAcceptor {
    /// A certificate chain (the server's certificate first) and its private key, from PEM
    /// files. ALPN offers `http/1.1`, the protocol a WebSocket upgrade runs on.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let read = |path: &Path, what| {
            std::fs::read(path).map_err(|error| TlsError::Pem {
                what,
                detail: format!("{}: {error}", path.display()),
            })
        };
        let chain = read(cert_chain.as_ref(), "certificate")?;
        let key = read(key.as_ref(), "private key")?;
        Self::from_pem(&chain, &key)
    }

    /// The same from PEM bytes in memory.
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert_chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| pem_error("certificate", error))?;
        let chain = nonempty(chain)?;
        let key =
            PrivateKeyDer::from_pem_slice(key).map_err(|error| pem_error("private key", error))?;
        Self::from_parts(chain, key)
    }

    /// A rustls configuration of your own (client authentication, a certificate resolver
    /// for several names, session tickets). Set its ALPN protocols yourself (`http/1.1`).
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        TlsAcceptor { config }
    }

    fn from_parts(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(versions())
            .map_err(TlsError::Identity)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(TlsError::Identity)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor {
            config: Arc::new(config),
        })
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }

    /// A new server session for one connection, on rustls' unbuffered API (the loop's).
    pub(crate) fn unbuffered_session(&self) -> Result<UnbufferedServerConnection, TlsError> {
        UnbufferedServerConnection::new(self.config.clone()).map_err(TlsError::from)
    }
}

/// A client's trust anchors and settings for `wss://`: [`Client::tls`] and the blocking
/// driver's `connect_tls` take it. The server's certificate is checked against them and
/// its name against the URL's host (SNI carries the host too). Cheap to clone.
///
/// [`Client::tls`]: crate::events::Client::tls
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector")
            .field("alpn", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

impl TlsConnector {
    /// Trusts the platform's root certificates (on Linux the system's CA bundle, as
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` may point elsewhere), read once per process.
    ///
    /// rustls-native-certs rather than a compiled-in list (webpki-roots): the system's
    /// store is what an operator updates and where a company adds its own CA, and an
    /// application does not need a new release of this crate when a root changes.
    pub fn platform() -> Result<Self, TlsError> {
        static PLATFORM: OnceLock<Result<TlsConnector, TlsError>> = OnceLock::new();
        PLATFORM
            .get_or_init(|| {
                let found = rustls_native_certs::load_native_certs();
                let mut roots = RootCertStore::empty();
                let (added, _ignored) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    let detail = match found.errors.first() {
                        Some(error) => error.to_string(),
                        None => "the store is empty".to_owned(),
                    };
                    return Err(TlsError::NoPlatformRoots(detail));
                }
                Self::from_roots(roots)
            })
            .clone()
    }

    /// Trusts only the CA certificates in `pem` (a private CA, a test CA).
    pub fn with_ca_pem(pem: &[u8]) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate = certificate.map_err(|error| pem_error("certificate", error))?;
            roots.add(certificate).map_err(TlsError::Identity)?;
        }
        if roots.is_empty() {
            return Err(TlsError::Pem {
                what: "certificate",
                detail: "no CERTIFICATE section".to_owned(),
            });
        }
        Self::from_roots(roots)
    }

    /// A rustls configuration of your own (client certificates, other roots). Set its ALPN
    /// protocols yourself (`http/1.1`).
    pub fn from_config(config: Arc<ClientConfig>) -> Self {
        TlsConnector { config }
    }

    fn from_roots(roots: RootCertStore) -> Result<Self, TlsError> {
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(versions())
            .map_err(TlsError::Identity)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConnector {
            config: Arc::new(config),
        })
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// A new client session to `host` (a DNS name or an IP address, as in the URL).
    pub(crate) fn session(&self, host: &str) -> Result<ClientConnection, TlsError> {
        ClientConnection::new(self.config.clone(), server_name(host)?).map_err(TlsError::from)
    }

    /// A new client session to `host`, on rustls' unbuffered API (the loop's).
    pub(crate) fn unbuffered_session(
        &self,
        host: &str,
    ) -> Result<UnbufferedClientConnection, TlsError> {
        UnbufferedClientConnection::new(self.config.clone(), server_name(host)?)
            .map_err(TlsError::from)
    }
}

/// The name a server's certificate is checked against: a URL's host (an IPv6 address
/// comes in brackets there).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_owned()).map_err(|_| TlsError::InvalidServerName(host.to_owned()))
}

/// The chain, unless it has no certificate.
fn nonempty(chain: Vec<CertificateDer<'static>>) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    if chain.is_empty() {
        return Err(TlsError::Pem {
            what: "certificate",
            detail: "no CERTIFICATE section".to_owned(),
        });
    }
    Ok(chain)
}

fn pem_error(what: &'static str, error: rustls::pki_types::pem::Error) -> TlsError {
    TlsError::Pem {
        what,
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_a_certificate_or_key_is_a_precise_error() {
        let error = TlsAcceptor::from_pem(b"", b"").unwrap_err();
        assert!(
            matches!(
                error,
                TlsError::Pem {
                    what: "certificate",
                    ..
                }
            ),
            "{error}"
        );
        let error = TlsConnector::with_ca_pem(b"not pem").unwrap_err();
        assert!(matches!(error, TlsError::Pem { .. }), "{error}");
    }

    #[test]
    fn a_bad_certificate_error_is_told_apart_from_other_tls_failures() {
        let bad = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert!(matches!(
            TlsError::from(bad.clone()),
            TlsError::Certificate(rustls::CertificateError::UnknownIssuer)
        ));
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, bad);
        assert!(matches!(
            tls_error_in(&wrapped),
            Some(TlsError::Certificate(_))
        ));
        let other = rustls::Error::DecryptError;
        assert!(matches!(TlsError::from(other), TlsError::Protocol(_)));
        assert!(tls_error_in(&std::io::Error::other("plain")).is_none());
    }
}
