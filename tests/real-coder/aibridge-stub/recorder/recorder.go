// Package recorder is a compile-only stub (see ../go.mod).
package recorder

// Metadata is free-form metadata attached to records.
type Metadata map[string]any
