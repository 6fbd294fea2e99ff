// A compile-only stand-in for github.com/coder/aibridge, which the Go module
// proxy refuses. It declares just what coder's enterprise/aibridged package
// uses; the harness never starts the AI bridge, so nothing here does anything.
module github.com/coder/aibridge

go 1.24

require (
	cdr.dev/slog/v3 v3.0.0-rc1
	go.opentelemetry.io/otel v1.39.0
	go.opentelemetry.io/otel/trace v1.39.0
)
