//! Matching detector events to the ground truth (filled in below).
