//! Data: what the network learns from.
//!
//! In: a CSV file (a `name` column, and for classification a label column and optional
//! `count`) or a text file with one name per line. Out: checked names ([`names`],
//! [`labelled`]), token sequences for either task ([`sequences`]) and padded
//! mini-batches of them ([`batch`]), which is all the training engine sees.
//!
//! Bad rows are skipped and reported, never fatal.

pub mod batch;
pub mod labelled;
pub mod names;
pub mod sequences;
