package realcoder

// Provisioner daemons: the admin who starts a provisioner for every key. The
// harness runs an in-process echo provisioner per organization (untagged) and
// one per provisioner key, with the key's organization and tags, as soon as
// the key exists (keys are polled every 200 ms), so templates that orgsplit
// re-creates in new organizations build. The echo provisioner serves the
// terraform provisioner type: orgsplit creates terraform
// versions, and echo builds any tarball without Terraform.

import (
	"context"
	"sync"
	"testing"
	"time"

	"cdr.dev/slog/v3"
	"github.com/google/uuid"

	"github.com/coder/coder/v2/codersdk"
	"github.com/coder/coder/v2/codersdk/drpcsdk"
	"github.com/coder/coder/v2/provisioner/echo"
	"github.com/coder/coder/v2/provisionerd"
	provisionerdproto "github.com/coder/coder/v2/provisionerd/proto"
	"github.com/coder/coder/v2/provisionersdk"
	sdkproto "github.com/coder/coder/v2/provisionersdk/proto"
	"github.com/coder/coder/v2/testutil"
)

type daemons struct {
	t       *testing.T
	client  *codersdk.Client
	mu      sync.Mutex
	started map[string]bool
	n       int
}

func newDaemons(t *testing.T, client *codersdk.Client) *daemons {
	return &daemons{t: t, client: client, started: map[string]bool{}}
}

// ensure starts a daemon for org with tags, once per (org, key name).
func (d *daemons) ensure(org uuid.UUID, tags map[string]string) {
	d.start(org.String()+"/", org, tags)
}

func (d *daemons) start(key string, org uuid.UUID, tags map[string]string) {
	d.mu.Lock()
	if d.started[key] {
		d.mu.Unlock()
		return
	}
	d.started[key] = true
	d.n++
	name := "harness-" + org.String()[:8] + "-" + string(rune('a'+d.n%26))
	d.mu.Unlock()

	provisionerClient, provisionerSrv := drpcsdk.MemTransportPipe()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_ = echo.Serve(ctx, &provisionersdk.ServeOptions{Listener: provisionerSrv, WorkDirectory: d.t.TempDir()})
	}()
	echoClient := sdkproto.NewDRPCProvisionerClient(provisionerClient)
	daemon := provisionerd.New(func(ctx context.Context) (provisionerdproto.DRPCProvisionerDaemonClient, error) {
		return d.client.ServeProvisionerDaemon(ctx, codersdk.ServeProvisionerDaemonRequest{
			Name:         name,
			Organization: org,
			// Terraform only: the workspaces dbfake writes have echo jobs with no
			// file, which a daemon serving echo would pick up and fail.
			Provisioners: []codersdk.ProvisionerType{codersdk.ProvisionerTypeTerraform},
			Tags:         tags,
		})
	}, &provisionerd.Options{
		Logger:              testutil.Logger(d.t).Named("provisionerd").Leveled(slog.LevelInfo),
		UpdateInterval:      250 * time.Millisecond,
		ForceCancelInterval: 5 * time.Second,
		Connector: provisionerd.LocalProvisioners{
			string(codersdk.ProvisionerTypeTerraform): echoClient,
		},
	})
	d.t.Cleanup(func() {
		_ = daemon.Close()
		cancel()
		_ = provisionerClient.Close()
		_ = provisionerSrv.Close()
	})
}

// watch polls every organization's provisioner keys and starts a daemon for
// each new one (not the built-in keys), until ctx ends.
func (d *daemons) watch(ctx context.Context) {
	builtIn := map[uuid.UUID]bool{
		codersdk.ProvisionerKeyUUIDBuiltIn: true, codersdk.ProvisionerKeyUUIDUserAuth: true, codersdk.ProvisionerKeyUUIDPSK: true,
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
		orgs, err := d.client.Organizations(ctx)
		if err != nil {
			continue
		}
		for _, org := range orgs {
			keys, err := d.client.ListProvisionerKeys(ctx, org.ID)
			if err != nil {
				continue
			}
			for _, k := range keys {
				if builtIn[k.ID] {
					continue
				}
				tags := map[string]string{}
				for name, value := range k.Tags {
					tags[name] = value
				}
				d.start(k.ID.String(), org.ID, tags)
			}
		}
	}
}
