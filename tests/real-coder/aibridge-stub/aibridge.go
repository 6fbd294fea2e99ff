// Package aibridge is a compile-only stub (see go.mod).
package aibridge

import (
	"context"
	"errors"
	"net/http"
	"time"

	"cdr.dev/slog/v3"
	"go.opentelemetry.io/otel/trace"

	"github.com/coder/aibridge/mcp"
	"github.com/coder/aibridge/recorder"
)

var errStub = errors.New("aibridge stub: the AI bridge is not available in this build")

type Metadata = recorder.Metadata

type InterceptionRecord struct {
	ID, InitiatorID, Provider, Model string
	Metadata                         Metadata
	StartedAt                        time.Time
}

type InterceptionRecordEnded struct {
	ID      string
	EndedAt time.Time
}

type PromptUsageRecord struct {
	InterceptionID, MsgID, Prompt string
	Metadata                      Metadata
	CreatedAt                     time.Time
}

type TokenUsageRecord struct {
	InterceptionID, MsgID string
	Input, Output         int64
	ExtraTokenTypes       map[string]int64
	Metadata              Metadata
	CreatedAt             time.Time
}

type ToolUsageRecord struct {
	InterceptionID, MsgID string
	ServerURL             *string
	Tool                  string
	Args                  any
	Injected              bool
	InvocationError       error
	Metadata              Metadata
	CreatedAt             time.Time
}

type Recorder interface {
	RecordInterception(ctx context.Context, req *InterceptionRecord) error
	RecordInterceptionEnded(ctx context.Context, req *InterceptionRecordEnded) error
	RecordPromptUsage(ctx context.Context, req *PromptUsageRecord) error
	RecordTokenUsage(ctx context.Context, req *TokenUsageRecord) error
	RecordToolUsage(ctx context.Context, req *ToolUsageRecord) error
}

func NewRecorder(_ slog.Logger, _ trace.Tracer, _ func() (Recorder, error)) Recorder { return nil }

type Provider interface{}

type Metrics struct{}

type RequestBridge struct{}

func NewRequestBridge(_ context.Context, _ []Provider, _ Recorder, _ mcp.ServerProxier, _ slog.Logger, _ *Metrics, _ trace.Tracer) (*RequestBridge, error) {
	return nil, errStub
}

func (*RequestBridge) ServeHTTP(rw http.ResponseWriter, _ *http.Request) {
	http.Error(rw, errStub.Error(), http.StatusNotImplemented)
}

func (*RequestBridge) Shutdown(context.Context) error { return nil }

func AsActor(ctx context.Context, _ string, _ recorder.Metadata) context.Context { return ctx }
