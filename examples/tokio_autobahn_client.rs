//! The Autobahn testsuite's client testee on the tokio adapter (feature `tokio`): it runs
//! every case of a `wstest -m fuzzingserver`, echoing each message, then asks the server to
//! write its reports.
//!
//! ```text
//! cargo run --release --features tokio --example tokio_autobahn_client -- ws://127.0.0.1:9001 rfc6455
//! ```

use rfc6455::{CloseCode, Error, Message};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let agent = args.next().unwrap_or_else(|| "rfc6455".to_owned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(base.trim_end_matches('/'), &agent))
}

async fn run(base: &str, agent: &str) -> Result<(), Error> {
    let (mut socket, _) = rfc6455::tokio::connect(&format!("{base}/getCaseCount")).await?;
    let count: u32 = match socket.recv().await {
        Some(Ok(Message::Text(text))) => text.parse().unwrap_or(0),
        _ => 0,
    };
    socket.close(CloseCode::NORMAL, "").await?;
    while socket.recv().await.is_some() {}
    println!("running {count} cases as agent {agent}");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        if let Err(error) = run_case(&url).await {
            println!("case {case}: {error}");
        }
    }
    let url = format!("{base}/updateReports?agent={agent}");
    let (mut socket, _) = rfc6455::tokio::connect(&url).await?;
    socket.close(CloseCode::NORMAL, "").await?;
    while socket.recv().await.is_some() {}
    println!("reports updated");
    Ok(())
}

async fn run_case(url: &str) -> Result<(), Error> {
    let (mut socket, _) = rfc6455::tokio::connect(url).await?;
    // The stream ends once the close handshake is over and the server has closed TCP (a
    // client waits for that, briefly: RFC 6455 section 7.1.1).
    while let Some(message) = socket.recv().await {
        socket.feed(message?).await?;
    }
    Ok(())
}
