// Package mcp is a compile-only stub (see ../go.mod).
package mcp

import (
	"context"
	"errors"
	"regexp"

	"cdr.dev/slog/v3"
	"go.opentelemetry.io/otel/trace"
)

var errStub = errors.New("aibridge stub: MCP proxying is not available in this build")

// ServerProxier proxies MCP servers.
type ServerProxier interface {
	Init(ctx context.Context) error
}

type none struct{}

func (none) Init(context.Context) error { return errStub }

// NewServerProxyManager returns a proxier that always fails.
func NewServerProxyManager(_ map[string]ServerProxier, _ trace.Tracer) ServerProxier {
	return none{}
}

// NewStreamableHTTPServerProxy always fails.
func NewStreamableHTTPServerProxy(_, _ string, _ map[string]string, _, _ *regexp.Regexp, _ slog.Logger, _ trace.Tracer) (ServerProxier, error) {
	return nil, errStub
}
