//! One connection to PostgreSQL, used synchronously, with every call bounded by a deadline.
//!
//! The `postgres` crate's synchronous client waits for as long as the server takes: a server
//! that stops answering without closing the connection (a frozen process, a network that
//! drops packets, a NAT entry that expired) would hold the calling thread for good, and
//! PostgreSQL's own `statement_timeout` cannot fire on a server that is not running. This is
//! the same client (tokio-postgres on a runtime of its own, driven by the calling thread, as
//! the `postgres` crate does it), but each call, the connection's handshake included, is
//! given a deadline; past it the connection is abandoned, never waited on again, and its
//! socket closed when it is dropped.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Row, SimpleQueryMessage, Socket, Statement};

/// Why a call failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The server or the connection refused it.
    Postgres(tokio_postgres::Error),
    /// No answer within the deadline; the connection is abandoned.
    NoAnswer(Duration),
    /// The runtime that drives a connection could not be made (no thread or epoll left).
    Runtime(std::io::Error),
}

impl Failure {
    /// The server's SQLSTATE, when the server answered with an error.
    pub(super) fn code(&self) -> Option<&str> {
        match self {
            Failure::Postgres(e) => e.code().map(|c| c.code()),
            _ => None,
        }
    }

    /// The server's error, when it answered with one.
    pub(super) fn as_db_error(&self) -> Option<&tokio_postgres::error::DbError> {
        match self {
            Failure::Postgres(e) => e.as_db_error(),
            _ => None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Postgres(e) => fmt::Display::fmt(e, f),
            Failure::NoAnswer(waited) => write!(
                f,
                "no answer from the server within {} ms; the connection is closed",
                waited.as_millis()
            ),
            Failure::Runtime(e) => write!(f, "cannot start a connection's runtime: {e}"),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Postgres(e) => e.source(),
            _ => None,
        }
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Failure {
        Failure::Postgres(e)
    }
}

/// A connection and the runtime that drives it.
pub(super) struct Session {
    /// `Some` until the session is dropped ([`Session::drop`] takes them, to close in order).
    client: Option<Client>,
    runtime: Option<Runtime>,
    /// The task that owns the socket: the connection's reading and writing.
    driver: Option<JoinHandle<()>>,
    /// The longest any call may wait for the server.
    deadline: Duration,
    /// A call outlived its deadline: the connection's state is unknown, it is not used again.
    abandoned: bool,
}

/// How long closing a connection waits for its goodbye (`Terminate`) to be written.
const CLOSE_WAIT: Duration = Duration::from_millis(100);

/// A runtime for one connection: the calling thread drives it. A host name is looked up on
/// a thread of its own (tokio's blocking pool), at most one.
fn runtime() -> Result<Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(1)
        .build()
        .map_err(Failure::Runtime)
}

impl Session {
    /// Connects, the handshake (host name lookup, TCP, TLS, authentication) bounded by
    /// `connect_timeout`; each later call is bounded by `deadline`.
    pub(super) fn connect<T>(
        config: &Config,
        tls: T,
        connect_timeout: Duration,
        deadline: Duration,
    ) -> Result<Session, Failure>
    where
        T: MakeTlsConnect<Socket> + 'static + Send,
        T::Stream: Send,
    {
        let runtime = runtime()?;
        // The timer is made inside the runtime (an async block), which it needs.
        let connected = runtime
            .block_on(async { tokio::time::timeout(connect_timeout, config.connect(tls)).await });
        let (client, connection) = match connected {
            Ok(Ok(connected)) => connected,
            failed => {
                // Without waiting for a host name lookup that may still be running.
                runtime.shutdown_background();
                return Err(match failed {
                    Ok(Err(e)) => Failure::Postgres(e),
                    _ => Failure::NoAnswer(connect_timeout),
                });
            }
        };
        // Runs whenever the runtime does: inside each call's `block_on`.
        let driver = runtime.spawn(async move {
            let _ = connection.await;
        });
        Ok(Session {
            client: Some(client),
            runtime: Some(runtime),
            driver: Some(driver),
            deadline,
            abandoned: false,
        })
    }

    /// Runs `work` on the client, waiting at most the deadline for it.
    fn run<'s, T, F>(&'s mut self, work: impl FnOnce(&'s Client) -> F) -> Result<T, Failure>
    where
        F: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let Session {
            client,
            runtime,
            deadline,
            abandoned,
            ..
        } = self;
        let deadline = *deadline;
        let (Some(client), Some(runtime), false) = (client.as_ref(), runtime.as_ref(), *abandoned)
        else {
            return Err(Failure::NoAnswer(deadline));
        };
        let work = work(client);
        match runtime.block_on(async { tokio::time::timeout(deadline, work).await }) {
            Ok(result) => result.map_err(Failure::Postgres),
            Err(_) => {
                *abandoned = true;
                Err(Failure::NoAnswer(deadline))
            }
        }
    }

    /// Whether the connection can no longer be used: closed by the server, or abandoned.
    pub(super) fn is_broken(&self) -> bool {
        self.abandoned || self.client.as_ref().is_none_or(Client::is_closed)
    }

    /// Whether the server closed the connection (not abandoned: a call may be tried again on
    /// another connection at once).
    pub(super) fn is_closed(&self) -> bool {
        !self.abandoned && self.client.as_ref().is_none_or(Client::is_closed)
    }

    pub(super) fn prepare(&mut self, sql: &str) -> Result<Statement, Failure> {
        self.run(|c| c.prepare(sql))
    }

    pub(super) fn query(
        &mut self,
        statement: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Failure> {
        self.run(|c| c.query(statement, params))
    }

    pub(super) fn query_opt(
        &mut self,
        statement: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Failure> {
        self.run(|c| c.query_opt(statement, params))
    }

    /// One row of `sql`, prepared for this call only.
    pub(super) fn query_one_sql(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, Failure> {
        self.run(|c| c.query_one(sql, params))
    }

    /// The rows of `sql`, prepared for this call only.
    pub(super) fn query_sql(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Failure> {
        self.run(|c| c.query(sql, params))
    }

    pub(super) fn execute(
        &mut self,
        statement: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Failure> {
        self.run(|c| c.execute(statement, params))
    }

    /// `sql`, one or more statements, in the simple protocol.
    pub(super) fn batch_execute(&mut self, sql: &str) -> Result<(), Failure> {
        self.run(|c| c.batch_execute(sql))
    }

    /// An empty query: a round trip that proves the connection alive.
    pub(super) fn ping(&mut self) -> Result<(), Failure> {
        self.run(|c| c.simple_query(""))
            .map(|_: Vec<SimpleQueryMessage>| ())
    }
}

impl Drop for Session {
    /// Says goodbye to the server (its `Terminate`, written within [`CLOSE_WAIT`]), then
    /// closes the socket. Nothing here waits on a server that does not answer, nor on a host
    /// name lookup still running.
    fn drop(&mut self) {
        // Dropping the client queues its Terminate; the driver writes it and ends.
        drop(self.client.take());
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        // On a thread of another tokio runtime (a store dropped in async code) a runtime
        // cannot be driven: the socket is closed without the goodbye.
        let in_tokio = tokio::runtime::Handle::try_current().is_ok();
        if let (Some(driver), false, false) = (self.driver.take(), self.abandoned, in_tokio) {
            runtime.block_on(async {
                let _ = tokio::time::timeout(CLOSE_WAIT, driver).await;
            });
        }
        runtime.shutdown_background();
    }
}
