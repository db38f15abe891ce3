//! The runs behind the subcommands, as functions of plain settings: the
//! command line (`cli`) parses and checks the flags, and what is here wires
//! the library's stages together. [`analyze`] is the main job: input, models,
//! one pass, the statistics, the outputs and the exit code.

pub mod analyze;
pub mod personal;
pub mod progress;
pub mod spool;
pub mod summary;
