//! What the peers' Rust echo servers share: the tokio runtime they run on.

/// A current_thread runtime with tokio's I/O driver, as the libraries' own echo examples build
/// it; with the timer driver as well when `PEERS_TOKIO_ENABLE=all` is set, which is the
/// runtime `#[tokio::main(flavor = "current_thread")]` builds and the one the rfc6455 adapter
/// needs (its keep-alive and close timeouts are tokio timers). scripts/bench-tokio.sh sets it,
/// so that every server it compares runs on the same runtime.
pub fn current_thread_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    match std::env::var("PEERS_TOKIO_ENABLE").as_deref() {
        Ok("all") => builder.enable_all(),
        Ok("io") | Err(_) => builder.enable_io(),
        Ok(other) => {
            return Err(std::io::Error::other(format!(
                "PEERS_TOKIO_ENABLE={other}: expected `all` or `io`"
            )));
        }
    };
    builder.build()
}
