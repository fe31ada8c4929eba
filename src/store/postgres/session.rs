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
    // Dropped in this order: the client, then the runtime, which drops the task that owns the
    // socket without waiting for it.
    client: Client,
    runtime: Runtime,
    /// The longest any call may wait for the server.
    deadline: Duration,
    /// A call outlived its deadline: the connection's state is unknown, it is not used again.
    abandoned: bool,
}

impl Session {
    /// Connects, the handshake (TCP, TLS, authentication) bounded by `connect_timeout`; each
    /// later call is bounded by `deadline`.
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(Failure::Runtime)?;
        // The timer is made inside the runtime (an async block), which it needs.
        let connected = runtime
            .block_on(async { tokio::time::timeout(connect_timeout, config.connect(tls)).await });
        let (client, connection) = match connected {
            Ok(result) => result?,
            Err(_) => return Err(Failure::NoAnswer(connect_timeout)),
        };
        // Runs whenever the runtime does: inside each call's `block_on`.
        runtime.spawn(async move {
            let _ = connection.await;
        });
        Ok(Session {
            client,
            runtime,
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
        } = self;
        if *abandoned {
            return Err(Failure::NoAnswer(*deadline));
        }
        let work = work(client);
        let deadline = *deadline;
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
        self.abandoned || self.client.is_closed()
    }

    /// Whether the server closed the connection (not abandoned: a call may be tried again on
    /// another connection at once).
    pub(super) fn is_closed(&self) -> bool {
        !self.abandoned && self.client.is_closed()
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
