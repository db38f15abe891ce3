//! Plain text, before any model: [`clauses`] splits a comment into the
//! opinions it holds, [`language`] tells its language, [`redact`] masks the
//! personal data in it, [`shouting`] lowers words in capitals for the
//! encoder. Nothing here reads a model or the statistics.

pub mod clauses;
pub mod language;
pub mod non_answer;
pub mod redact;
pub mod shouting;
