//! `SqliteStore`: the embedded default (placeholder until implemented).
#![allow(missing_docs)]
