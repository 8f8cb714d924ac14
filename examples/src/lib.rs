//! Example programs for the BGP stack; each is an `[[example]]` of this package.
