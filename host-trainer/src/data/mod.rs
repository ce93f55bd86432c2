//! Data: what the network learns from.
//!
//! In: a CSV file (a `name` column, and for classification a label column and optional
//! `count`) or a text file with one name per line; for word classifiers a CSV file of
//! messages ([`messages`]), read as word ids ([`words`]). Out: checked names ([`names`],
//! [`labelled`]), token sequences for either task ([`sequences`]) and padded
//! mini-batches of them ([`batch`]), which is all the training engine sees.
//!
//! Bad rows are skipped and reported, never fatal. The CSV readers of labelled names and
//! of messages take their rows and columns the same way (`csv_rows`).

pub mod batch;
pub mod cmudict;
pub(crate) mod csv_rows;
pub mod labelled;
pub mod messages;
pub mod names;
pub mod sequences;
pub mod words;
