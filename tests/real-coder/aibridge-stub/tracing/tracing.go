// Package tracing is a compile-only stub (see ../go.mod).
package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

const (
	InitiatorID = "initiator_id"
	APIKeyID    = "api_key_id"
)

// EndSpanErr ends the span.
func EndSpanErr(span trace.Span, _ *error) { span.End() }

// WithRequestBridgeAttributesInContext returns ctx unchanged.
func WithRequestBridgeAttributesInContext(ctx context.Context, _ []attribute.KeyValue) context.Context {
	return ctx
}
