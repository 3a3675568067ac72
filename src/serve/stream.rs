//! A response body fed from a channel: watch events written by a task as
//! they come. When the client goes away the body is dropped, the task's
//! next send fails and it ends, and with it the engine's watcher.

use actix_web::web::Bytes;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

pub struct Body(mpsc::UnboundedReceiver<Bytes>);

impl futures_core::Stream for Body {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(Ok))
    }
}

pub fn channel() -> (mpsc::UnboundedSender<Bytes>, Body) {
    let (tx, rx) = mpsc::unbounded_channel();
    (tx, Body(rx))
}
