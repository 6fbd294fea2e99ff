package realcoder

// The logging proxy in front of coderd: every request orgsplit sends goes
// through it. With ORGSPLIT_REAL_CODER_REQUEST_LOG it appends one JSON line
// per request ({"method","path","status","routed"}: routed is false when
// coderd's router had no route, a 404 "Route not found." or a 405); with
// ORGSPLIT_REAL_CODER_BODIES it writes each successful GET's JSON body as an
// orgsplit saved-response envelope ({"endpoint": path?query, "body": …}), so
// the Rust tests can import the very bodies a live import read.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type logLine struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	Routed bool   `json:"routed"`
}

func startProxy(t *testing.T, target *url.URL) string {
	logPath := os.Getenv("ORGSPLIT_REAL_CODER_REQUEST_LOG")
	bodies := os.Getenv("ORGSPLIT_REAL_CODER_BODIES")
	var mu sync.Mutex
	n := 0
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(res *http.Response) error {
		req := res.Request
		path := req.URL.EscapedPath()
		if req.URL.RawQuery != "" {
			path += "?" + req.URL.RawQuery
		}
		var body []byte
		if res.StatusCode == http.StatusNotFound || (bodies != "" && req.Method == http.MethodGet && res.StatusCode == http.StatusOK && strings.HasPrefix(req.URL.Path, "/api/v2/")) {
			b, err := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if err != nil {
				return err
			}
			body = b
			res.Body = io.NopCloser(bytes.NewReader(b))
		}
		routed := res.StatusCode != http.StatusMethodNotAllowed
		if res.StatusCode == http.StatusNotFound {
			var msg struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(body, &msg)
			routed = msg.Message != "Route not found."
		}
		mu.Lock()
		defer mu.Unlock()
		if logPath != "" {
			line, _ := json.Marshal(logLine{Method: req.Method, Path: path, Status: res.StatusCode, Routed: routed})
			f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err == nil {
				_, _ = f.Write(append(line, '\n'))
				_ = f.Close()
			}
		}
		if bodies != "" && body != nil && res.StatusCode == http.StatusOK && json.Valid(body) {
			n++
			env, _ := json.Marshal(struct {
				Endpoint string          `json:"endpoint"`
				Body     json.RawMessage `json:"body"`
			}{path, body})
			_ = os.WriteFile(filepath.Join(bodies, fmt.Sprintf("%06d.json", n)), env, 0o600)
		}
		return nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: proxy}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}
