//! The dry run: the same script, changes shown and modeled, never performed.
