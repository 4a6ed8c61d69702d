// Placeholder: filled in by its author in this session.
