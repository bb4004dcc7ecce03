//! [`Loops`]: a bound server's or a connecting client's event loops, ready to run on this
//! thread ([`Loops::run`]) or in the background ([`Loops::spawn`], which gives
//! [`Spawned`]).

use std::net::{SocketAddr, ToSocketAddrs};
use std::thread::JoinHandle;

use super::Handle;
use crate::runtime::{Application, Command, EventLoop, Security};

type LoopRunner = Box<dyn FnOnce() -> std::io::Result<()> + Send>;

/// A bound server's or a connecting client's event loops, not yet running.
pub struct Loops {
    handle: Handle,
    local_addr: Option<SocketAddr>,
    loops: Vec<LoopRunner>,
}

impl Loops {
    pub(crate) fn new<A: Application>(
        handle: Handle,
        local_addr: Option<SocketAddr>,
        loops: Vec<EventLoop<A>>,
    ) -> Self {
        let loops = loops
            .into_iter()
            .map(|event_loop| Box::new(move || event_loop.run()) as LoopRunner)
            .collect();
        Loops {
            handle,
            local_addr,
            loops,
        }
    }

    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// A handle to send, broadcast and shut down from any thread.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Listens on one more address (`ws://`) beside the one the server was bound to:
    /// plain and TLS listeners side by side in one server. Returns the address bound.
    /// A client's loops have no listener to add to ([`std::io::ErrorKind::Unsupported`]).
    pub fn listen(&mut self, address: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
        self.listen_with(address, Security::default())
    }

    /// Listens on one more address for `wss://`, with `tls`.
    #[cfg(feature = "tls")]
    pub fn listen_tls(
        &mut self,
        address: impl ToSocketAddrs,
        tls: crate::tls::TlsAcceptor,
    ) -> std::io::Result<SocketAddr> {
        self.listen_with(address, Security::tls(tls))
    }

    fn listen_with(
        &mut self,
        address: impl ToSocketAddrs,
        security: Security,
    ) -> std::io::Result<SocketAddr> {
        if self.local_addr.is_none() {
            return Err(std::io::ErrorKind::Unsupported.into());
        }
        let listener = super::server::bind_listener(address)?;
        let local_addr = listener.local_addr()?;
        // Loop 0 owns the listeners; it takes this one from its channel on its first turn.
        if !self
            .handle
            .send_command(0, Command::Listen(listener, security))
        {
            return Err(std::io::Error::other("the server's first loop is gone"));
        }
        Ok(local_addr)
    }

    /// Runs the first loop on this thread and the others on their own threads; returns when
    /// every loop has stopped (after [`Handle::shutdown`], or for a client when its
    /// connection ended for good).
    pub fn run(mut self) -> std::io::Result<()> {
        let first = self.loops.remove(0);
        let others = spawn_all(self.loops)?;
        let mut result = first();
        for thread in others {
            let joined = thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a worker panicked")));
            result = result.and(joined);
        }
        result
    }

    /// Runs every loop on its own thread and returns at once.
    pub fn spawn(self) -> std::io::Result<Spawned> {
        let threads = spawn_all(self.loops)?;
        Ok(Spawned {
            handle: self.handle,
            local_addr: self.local_addr,
            threads,
        })
    }
}

fn spawn_all(loops: Vec<LoopRunner>) -> std::io::Result<Vec<JoinHandle<std::io::Result<()>>>> {
    loops
        .into_iter()
        .enumerate()
        .map(|(index, run)| {
            std::thread::Builder::new()
                .name(format!("rfc6455-loop-{index}"))
                .spawn(run)
        })
        .collect()
}

/// Loops running in the background, on threads of their own.
#[derive(Debug)]
pub struct Spawned {
    handle: Handle,
    local_addr: Option<SocketAddr>,
    threads: Vec<JoinHandle<std::io::Result<()>>>,
}

impl Spawned {
    /// The address the server listens on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// A handle to send, broadcast and shut down.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Waits for every loop to stop.
    pub fn join(self) -> std::io::Result<()> {
        let mut result = Ok(());
        for thread in self.threads {
            let joined = thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a worker panicked")));
            result = result.and(joined);
        }
        result
    }

    /// Shuts down gracefully (1001 to every connection) and waits for the loops to stop.
    pub fn shutdown(self) -> std::io::Result<()> {
        self.handle.shutdown();
        self.join()
    }
}
