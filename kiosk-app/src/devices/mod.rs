//! The lane's devices as the runtime uses them: the chip reader and the
//! MRZ scanner (the gate is `gate::worker`, the face unit [`crate::face`]).

pub mod chip;
pub mod scanner;
