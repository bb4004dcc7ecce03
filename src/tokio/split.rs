//! Splitting a [`WebSocketStream`](super::WebSocketStream) into a [`SplitStream`] and a
//! [`SplitSink`] usable from two tasks. Both halves share the connection under a lock, and
//! both may need the transport's readiness (the receiving half writes pongs and close
//! replies, the sending half writes messages): the transport is polled with a waker that
//! wakes both halves' tasks, so that neither misses the readiness the other asked for.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::stream::Inner;
use crate::error::Error;
use crate::protocol::Message;

/// The last wakers of the two halves' tasks.
#[derive(Default)]
struct Wakers {
    receiver: Mutex<Option<Waker>>,
    sender: Mutex<Option<Waker>>,
}

impl Wakers {
    fn remember(slot: &Mutex<Option<Waker>>, waker: &Waker) {
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|known| known.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        for slot in [&self.receiver, &self.sender] {
            let waker = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

struct Shared<S> {
    inner: Mutex<Inner<S>>,
    wakers: Arc<Wakers>,
    /// Wakes both halves: what the transport is polled with.
    waker: Waker,
}

impl<S> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Inner<S>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) fn split<S>(inner: Inner<S>) -> (SplitSink<S>, SplitStream<S>) {
    let wakers = Arc::new(Wakers::default());
    let shared = Arc::new(Shared {
        inner: Mutex::new(inner),
        waker: Waker::from(wakers.clone()),
        wakers,
    });
    (
        SplitSink {
            shared: shared.clone(),
        },
        SplitStream { shared },
    )
}

/// The receiving half of a split [`WebSocketStream`](super::WebSocketStream): a `Stream`
/// of messages. It also answers pings and runs the timers, so keep polling it.
pub struct SplitStream<S> {
    shared: Arc<Shared<S>>,
}

/// The sending half of a split [`WebSocketStream`](super::WebSocketStream): a `Sink` of
/// messages.
pub struct SplitSink<S> {
    shared: Arc<Shared<S>>,
}

impl<S> std::fmt::Debug for SplitStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SplitStream")
    }
}

impl<S> std::fmt::Debug for SplitSink<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SplitSink")
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> SplitStream<S> {
    /// Receives the next message: `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for SplitStream<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let shared = &self.shared;
        Wakers::remember(&shared.wakers.receiver, cx.waker());
        let mut both = Context::from_waker(&shared.waker);
        shared.lock().poll_next_message(&mut both)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> SplitSink<S> {
    /// Sends a message, waiting while the write queue is full and until it is written.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        let mut this = Pin::new(self);
        std::future::poll_fn(|cx| this.as_mut().poll_ready(cx)).await?;
        this.as_mut().start_send(message)?;
        std::future::poll_fn(|cx| this.as_mut().poll_flush(cx)).await
    }

    /// The same call of a sink half under its lock, with the waker of both halves.
    fn with_inner<T>(
        &self,
        cx: &mut Context<'_>,
        call: impl FnOnce(&mut Inner<S>, &mut Context<'_>) -> T,
    ) -> T {
        Wakers::remember(&self.shared.wakers.sender, cx.waker());
        let mut both = Context::from_waker(&self.shared.waker);
        call(&mut self.shared.lock(), &mut both)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for SplitSink<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.with_inner(cx, Inner::poll_ready)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.shared.lock().start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.with_inner(cx, Inner::poll_flush)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.with_inner(cx, Inner::poll_close)
    }
}
