// Package realcoder is a test harness that starts a real Coder server
// (github.com/coder/coder/v2 test packages, PostgreSQL via dbtestutil) for
// orgsplit's Rust tests. Coder's coderdenttest.New takes a *testing.T, so the
// harness is a `go test` binary: build it with `go test -c -o realcoder-harness .`
// and run `./realcoder-harness -test.run '^TestServe$' -test.timeout 0`
// with ORGSPLIT_REAL_CODER=1. It prints one JSON line {"url":...,"token":...}
// on stdout and stays up until stdin closes or it gets SIGTERM/SIGINT.
// The URL is a logging proxy in front of coderd (proxy.go); with
// ORGSPLIT_REAL_CODER_LOAD it first loads a deployment (load.go); it starts a
// provisioner daemon for every provisioner key (daemons.go).
package realcoder

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/coder/coder/v2/coderd/coderdtest"
	"github.com/coder/coder/v2/coderd/coderdtest/oidctest"
	"github.com/coder/coder/v2/codersdk"
	"github.com/coder/coder/v2/enterprise/coderd/coderdenttest"
)

type ready struct {
	URL            string `json:"url"`
	Token          string `json:"token"`
	UserID         string `json:"user_id"`
	OrganizationID string `json:"organization_id"`
}

func TestServe(t *testing.T) {
	if os.Getenv("ORGSPLIT_REAL_CODER") != "1" {
		t.Skip("set ORGSPLIT_REAL_CODER=1 to start the harness server")
	}
	dv := coderdtest.DeploymentValues(t)
	// Workspace sharing is no longer an experiment (v2.30.0 had it behind
	// `workspace-sharing`). Organizations' default member roles other than
	// [organization-workspace-access] need `minimum-implicit-member` (403
	// without it); with it, organization-member carries no workspace access
	// of its own, which the default member roles then give.
	dv.Experiments = []string{string(codersdk.ExperimentMinimumImplicitMember)}
	// OIDC users can only be created when OIDC is configured: a fake IdP on 127.0.0.1.
	idp := oidctest.NewFakeIDP(t, oidctest.WithServing())
	client, db, first := coderdenttest.NewWithDatabase(t, &coderdenttest.Options{
		Options: &coderdtest.Options{DeploymentValues: dv, OIDCConfig: idp.OIDCConfig(t, nil)},
		LicenseOptions: &coderdenttest.LicenseOptions{
			FeatureSet:  codersdk.FeatureSetPremium,
			AllFeatures: true,
		},
	})
	d := newDaemons(t, client)
	d.ensure(first.OrganizationID, map[string]string{})
	if path := os.Getenv("ORGSPLIT_REAL_CODER_LOAD"); path != "" {
		load(t, client, db, first.OrganizationID, d, path)
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go d.watch(watchCtx)
	proxied := startProxy(t, client.URL)
	line, err := json.Marshal(ready{
		URL:            proxied,
		Token:          client.SessionToken(),
		UserID:         first.UserID.String(),
		OrganizationID: first.OrganizationID.String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = os.Stdout.Write(append(line, '\n'))

	stop := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop <- struct{}{}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		stop <- struct{}{}
	}()
	<-stop
}
