//! Certificates made at test time: a CA, and a server certificate it signs for
//! `localhost` and 127.0.0.1 (no private key is ever committed).

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// A test CA and a server identity it issued, as PEM.
pub struct TestCerts {
    /// The CA's certificate: what a client trusts.
    pub ca: String,
    /// The server's certificate chain (its certificate, then the CA's).
    pub chain: String,
    /// The server's private key.
    pub key: String,
}

/// A fresh CA and a server certificate for `names` (DNS names or IP addresses).
pub fn issue(names: &[&str]) -> TestCerts {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // A name of its own, so that two test CAs are told apart by name, not only by key.
    static SERIAL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("rfc6455 test CA {} {serial}", std::process::id());
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let params = CertificateParams::new(names).expect("server params");
    let key = KeyPair::generate().expect("server key");
    let certificate = params.signed_by(&key, &ca).expect("server certificate");
    TestCerts {
        ca: ca.pem(),
        chain: format!("{}{}", certificate.pem(), ca.pem()),
        key: key.serialize_pem(),
    }
}

/// The usual test identity: `localhost` and 127.0.0.1.
pub fn localhost() -> TestCerts {
    issue(&["localhost", "127.0.0.1"])
}
