//! The HTTP server: the app of [`crate::app`] behind actix-http's HTTP/1 service, as actix-web's
//! `HttpServer` would run it, with one difference on the wire.
//!
//! A request actix-http cannot parse (a control byte in a header, a malformed request line or
//! header name) never reaches the app: actix-http's dispatcher answers it itself with a bare
//! `400 Bad Request` and an empty body, and closes the connection; a request head too large for
//! its buffer (a 100 kB header) likewise gets a bare `431 Request Header Fields Too Large`. It
//! offers no hook for those answers, so the socket is wrapped ([`Wire`]) and each is replaced on
//! its way out by a problem document, as every other 4xx of Hearth is. Nothing else passes
//! through changed.

use std::io;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_http::{HttpService, Protocol};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server};
use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::AppError;

/// How the server runs.
pub struct ServerOptions {
    /// Worker threads; `None` for one per core.
    pub workers: Option<usize>,
    /// How long a graceful stop waits for requests in flight.
    pub shutdown_timeout_secs: u64,
}

/// Starts serving the app on `bind` (`host:port`). Signals are not handled here (the caller stops
/// the server through its handle), as with `HttpServer::disable_signals`.
pub fn run(bind: &str, options: ServerOptions, state: crate::api::AppState) -> io::Result<Server> {
    let mut builder = actix_server::Server::build()
        .disable_signals()
        .shutdown_timeout(options.shutdown_timeout_secs);
    if let Some(w) = options.workers {
        builder = builder.workers(w);
    }
    let shutdown = builder.graceful_shutdown_signal();
    let builder = builder.bind("hearth", bind, move || {
        let state = state.clone();
        let shutdown = shutdown.clone();
        let app = crate::api::app(state)
            .into_factory()
            .map_err(|err: actix_web::Error| err.error_response());
        let http = HttpService::build()
            .graceful_shutdown_signal(move || {
                let signal = shutdown.clone();
                async move { signal.notified().await }
            })
            // actix-web's defaults.
            .keep_alive(actix_http::KeepAlive::default())
            .client_request_timeout(Duration::from_secs(5))
            .client_disconnect_timeout(Duration::from_secs(1))
            .finish(map_config(app, |_| AppConfig::default()));
        fn_service(|io: TcpStream| async move {
            let _ = io.set_nodelay(true);
            let peer = io.peer_addr().ok();
            Ok::<_, actix_http::error::DispatchError>((Wire::new(io), Protocol::Http1, peer))
        })
        .and_then(http)
    })?;
    Ok(builder.run())
}

/// A socket whose one change is to the answer actix-http writes for a request it cannot parse.
pub struct Wire<T> {
    io: T,
    /// The replacement answer still to be written, and how much of it has been.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> Wire<T> {
    pub fn new(io: T) -> Self {
        Wire { io, pending: None }
    }
}

/// The answer that replaces actix-http's bare 400: a problem document with a request id of its
/// own, and the connection closed as actix-http closes it.
pub fn unparsable_request_answer() -> Vec<u8> {
    static PROBLEM: OnceLock<crate::error::Problem> = OnceLock::new();
    let problem = PROBLEM.get_or_init(|| {
        AppError::BadRequest(
            "The request could not be read as HTTP/1.1: its request line or a header is malformed \
             or longer than this server reads (for example a control byte in a header value, or \
             a URI of tens of kilobytes)."
                .to_string(),
        )
        .to_problem()
    });
    problem_answer("400 Bad Request", problem)
}

/// The answer that replaces actix-http's bare 431.
pub fn oversized_head_answer() -> Vec<u8> {
    static PROBLEM: OnceLock<crate::error::Problem> = OnceLock::new();
    let problem = PROBLEM.get_or_init(|| crate::error::Problem {
        kind: "urn:hearth:problem:request-header-fields-too-large".into(),
        title: "Request Header Fields Too Large".into(),
        status: 431,
        detail: "The request line and headers are larger than this server reads; send \
                     shorter headers (a bearer token of a few kilobytes at most)."
            .into(),
        errors: None,
        use_record: None,
    });
    problem_answer("431 Request Header Fields Too Large", problem)
}

fn problem_answer(status_line: &str, problem: &crate::error::Problem) -> Vec<u8> {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {status_line}\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nx-request-id: {}\r\nx-content-type-options: nosniff\r\n\
         connection: close\r\n\r\n",
        body.len(),
        uuid::Uuid::new_v4()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Whether `buf` is exactly actix-http's own answer to a request it could not parse: a whole
/// `400 Bad Request` head with `content-length: 0` and nothing after it. The app never answers
/// so: its 400s carry a problem body and an `x-request-id` header.
pub fn is_unparsable_request_answer(buf: &[u8]) -> bool {
    is_bare_answer(buf, "400 Bad Request")
}

/// Whether `buf` is exactly actix-http's own 431 to a request head over its buffer, as
/// [`is_unparsable_request_answer`] is for its 400 (the app never answers 431).
pub fn is_oversized_head_answer(buf: &[u8]) -> bool {
    is_bare_answer(buf, "431 Request Header Fields Too Large")
}

fn is_bare_answer(buf: &[u8], status: &str) -> bool {
    let status_line = buf.starts_with(format!("HTTP/1.1 {status}\r\n").as_bytes())
        || buf.starts_with(format!("HTTP/1.0 {status}\r\n").as_bytes());
    if !status_line || !buf.ends_with(b"\r\n\r\n") {
        return false;
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n");
    if head_end != Some(buf.len() - 4) {
        return false;
    }
    let head = String::from_utf8_lossy(buf).to_ascii_lowercase();
    head.contains("\r\ncontent-length: 0\r\n") && !head.contains("\r\nx-request-id:")
}

impl<T: AsyncWrite + Unpin> Wire<T> {
    /// Writes what is left of the replacement answer; `Ready(Ok)` once all of it is written.
    fn drive_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = self.pending.as_mut() {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            match Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Wire<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Wire<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match this.drive_pending(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        let replacement = if is_unparsable_request_answer(buf) {
            Some(unparsable_request_answer())
        } else if is_oversized_head_answer(buf) {
            Some(oversized_head_answer())
        } else {
            None
        };
        if let Some(answer) = replacement {
            this.pending = Some((answer, 0));
            return match this.drive_pending(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                // Taken: the rest is written on the next write, flush or shutdown.
                _ => Poll::Ready(Ok(buf.len())),
            };
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.drive_pending(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.drive_pending(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_shutdown(cx),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dispatchers_bare_400_is_recognised() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Mon, 30 Nov 2026 19:00:00 GMT\r\n\r\n";
        assert!(is_unparsable_request_answer(bare));
        // The app's own 400: a body and a request id.
        let app = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\nx-request-id: abc\r\n\r\n{\"a\":\"bcde\"}";
        assert!(!is_unparsable_request_answer(app));
        // A bare 400 followed by more bytes (a pipelined answer) is left alone.
        let mut more = bare.to_vec();
        more.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
        assert!(!is_unparsable_request_answer(&more));
        assert!(!is_unparsable_request_answer(
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        ));
        assert!(!is_unparsable_request_answer(
            b"HTTP/1.1 400 Bad Request\r\n"
        ));
        let bare_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\ndate: Mon, 30 Nov 2026 19:00:00 GMT\r\n\r\n";
        assert!(is_oversized_head_answer(bare_431));
        assert!(!is_unparsable_request_answer(bare_431));
        assert!(!is_oversized_head_answer(bare));
    }

    #[test]
    fn the_replacement_is_a_whole_problem_answer() {
        let answer = unparsable_request_answer();
        let text = std::str::from_utf8(&answer).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(head.contains("content-type: application/problem+json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["status"], 400);
        assert!(head.contains("x-request-id: "));
        assert!(head.contains("x-content-type-options: nosniff"));
        let answer = oversized_head_answer();
        let answer = std::str::from_utf8(&answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["status"], 431);
    }
}
