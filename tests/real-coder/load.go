package realcoder

// Loading a deployment into the harness server from an orgsplit snapshot
// (ORGSPLIT_REAL_CODER_LOAD=snapshot.json): organizations, custom roles, users
// (in the default organization, like Coder's own user creation), members,
// groups, templates built by the echo provisioner (registered under the
// terraform type, as orgsplit creates versions), template ACLs and
// deprecations, workspaces (written to the database with dbfake: no builds),
// provisioner keys and IdP sync settings. IDs are the server's own; names are
// the snapshot's.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/coder/coder/v2/coderd/database"
	"github.com/coder/coder/v2/coderd/database/dbfake"
	"github.com/coder/coder/v2/codersdk"
	"github.com/coder/coder/v2/provisioner/echo"
)

type snapPermission struct {
	Negate       bool   `json:"negate"`
	ResourceType string `json:"resource_type"`
	Action       string `json:"action"`
}

type snapACLEntry struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

type snapshot struct {
	Organizations []struct {
		ID                       string    `json:"id"`
		Name                     string    `json:"name"`
		ShareableWorkspaceOwners *string   `json:"shareable_workspace_owners"`
		DefaultOrgMemberRoles    *[]string `json:"default_org_member_roles"`
		DisplayName              string    `json:"display_name"`
		Description              string    `json:"description"`
		Icon                     string    `json:"icon"`
		IsDefault                bool      `json:"is_default"`
	} `json:"organizations"`
	Users []struct {
		ID        string   `json:"id"`
		Username  string   `json:"username"`
		Email     string   `json:"email"`
		Name      string   `json:"name"`
		Status    string   `json:"status"`
		LoginType string   `json:"login_type"`
		Roles     []string `json:"roles"`
		// Service accounts log in with `none` and have no email (coderd refuses one).
		IsServiceAccount bool `json:"is_service_account"`
	} `json:"users"`
	OrganizationMembers []struct {
		OrganizationID string    `json:"organization_id"`
		UserID         string    `json:"user_id"`
		Roles          *[]string `json:"roles"`
	} `json:"organization_members"`
	Groups []struct {
		ID             string   `json:"id"`
		OrganizationID string   `json:"organization_id"`
		Name           string   `json:"name"`
		DisplayName    string   `json:"display_name"`
		QuotaAllowance int      `json:"quota_allowance"`
		AvatarURL      string   `json:"avatar_url"`
		Members        []string `json:"members"`
	} `json:"groups"`
	Templates []struct {
		ID                 string `json:"id"`
		OrganizationID     string `json:"organization_id"`
		Name               string `json:"name"`
		DisplayName        string `json:"display_name"`
		Description        string `json:"description"`
		Icon               string `json:"icon"`
		Deprecated         bool   `json:"deprecated"`
		DeprecationMessage string `json:"deprecation_message"`
		DefaultTTLMs       int64  `json:"default_ttl_ms"`
		ACL                *struct {
			Users []snapACLEntry `json:"users"`
			Group []snapACLEntry `json:"group"`
		} `json:"acl"`
	} `json:"templates"`
	Workspaces []struct {
		Name           string `json:"name"`
		OwnerID        string `json:"owner_id"`
		OrganizationID string `json:"organization_id"`
		TemplateID     string `json:"template_id"`
		Shares         *struct {
			Users  []snapACLEntry `json:"users"`
			Groups []snapACLEntry `json:"groups"`
		} `json:"shares"`
	} `json:"workspaces"`
	ProvisionerKeys []struct {
		Name         string            `json:"name"`
		Organization string            `json:"organization"`
		Tags         map[string]string `json:"tags"`
	} `json:"provisioner_keys"`
	CustomRoles []struct {
		Name                          string           `json:"name"`
		DisplayName                   string           `json:"display_name"`
		OrganizationID                string           `json:"organization_id"`
		OrganizationPermissions       []snapPermission `json:"organization_permissions"`
		OrganizationMemberPermissions []snapPermission `json:"organization_member_permissions"`
		SitePermissions               []snapPermission `json:"site_permissions"`
		UserPermissions               []snapPermission `json:"user_permissions"`
	} `json:"custom_roles"`
	IdpSync struct {
		Organization *struct {
			Field      string              `json:"field"`
			Mapping    map[string][]string `json:"mapping"`
			AssignDflt bool                `json:"organization_assign_default"`
		} `json:"organization"`
		Groups []struct {
			OrganizationID string              `json:"organization_id"`
			Field          string              `json:"field"`
			Mapping        map[string][]string `json:"mapping"`
			RegexFilter    *string             `json:"regex_filter"`
			AutoCreate     bool                `json:"auto_create_missing_groups"`
			Legacy         map[string]string   `json:"legacy_group_name_mapping"`
		} `json:"groups"`
		Roles []struct {
			OrganizationID string              `json:"organization_id"`
			Field          string              `json:"field"`
			Mapping        map[string][]string `json:"mapping"`
		} `json:"roles"`
	} `json:"idp_sync"`
}

type loader struct {
	t       *testing.T
	ctx     context.Context
	client  *codersdk.Client
	db      database.Store
	ids     map[string]uuid.UUID
	mu      sync.Mutex
	daemons *daemons
}

func (l *loader) id(snap string) uuid.UUID {
	l.mu.Lock()
	defer l.mu.Unlock()
	id, ok := l.ids[snap]
	if !ok {
		l.t.Fatalf("load: %s names nothing loaded before it", snap)
	}
	return id
}

func (l *loader) set(snap string, id uuid.UUID) {
	l.mu.Lock()
	l.ids[snap] = id
	l.mu.Unlock()
}

func (l *loader) must(err error, what string, args ...any) {
	if err != nil {
		l.t.Fatalf("load: %s: %v", fmt.Sprintf(what, args...), err)
	}
}

func perms(ps []snapPermission) []codersdk.Permission {
	out := []codersdk.Permission{}
	for _, p := range ps {
		out = append(out, codersdk.Permission{Negate: p.Negate, ResourceType: codersdk.RBACResource(p.ResourceType), Action: codersdk.RBACAction(p.Action)})
	}
	return out
}

func uuids(l *loader, ids []string) []uuid.UUID {
	out := []uuid.UUID{}
	for _, s := range ids {
		out = append(out, l.id(s))
	}
	return out
}

// parallel runs f for 0..n-1 on 8 goroutines.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

func load(t *testing.T, client *codersdk.Client, db database.Store, defaultOrg uuid.UUID, d *daemons, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	var s snapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	l := &loader{t: t, ctx: ctx, client: client, db: db, ids: map[string]uuid.UUID{}, daemons: d}

	for _, o := range s.Organizations {
		if o.IsDefault {
			l.set(o.ID, defaultOrg)
			continue
		}
		org, err := client.CreateOrganization(ctx, codersdk.CreateOrganizationRequest{Name: o.Name, DisplayName: o.DisplayName, Description: o.Description, Icon: o.Icon})
		l.must(err, "organization %s", o.Name)
		l.set(o.ID, org.ID)
		l.set(o.ID+"/everyone", org.ID)
	}
	l.set("default-everyone", defaultOrg)
	for _, r := range s.CustomRoles {
		_, err := client.CreateOrganizationRole(ctx, codersdk.Role{
			Name: r.Name, DisplayName: r.DisplayName, OrganizationID: l.id(r.OrganizationID).String(),
			OrganizationPermissions: perms(r.OrganizationPermissions), OrganizationMemberPermissions: perms(r.OrganizationMemberPermissions),
			SitePermissions: perms(r.SitePermissions), UserPermissions: perms(r.UserPermissions),
		})
		l.must(err, "custom role %s", r.Name)
	}
	me, err := client.User(ctx, codersdk.Me)
	l.must(err, "me")
	parallel(len(s.Users), func(i int) {
		u := s.Users[i]
		if u.Username == me.Username {
			l.set(u.ID, me.ID)
			return
		}
		req := codersdk.CreateUserRequestWithOrgs{Email: u.Email, Username: u.Username, Name: u.Name, OrganizationIDs: []uuid.UUID{defaultOrg}}
		switch {
		case u.IsServiceAccount:
			req.ServiceAccount = true
			req.Email = ""
		case u.LoginType == "oidc" || u.LoginType == "github":
			req.UserLoginType = codersdk.LoginTypeOIDC
		default:
			req.UserLoginType = codersdk.LoginTypePassword
			req.Password = "SomeSecurePassword!1-" + u.Username
		}
		active := codersdk.UserStatusActive
		req.UserStatus = &active
		user, err := client.CreateUserWithOrgs(ctx, req)
		l.must(err, "user %s", u.Username)
		l.set(u.ID, user.ID)
		if u.Status == "suspended" {
			_, err = client.UpdateUserStatus(ctx, user.ID.String(), codersdk.UserStatusSuspended)
			l.must(err, "suspend %s", u.Username)
		}
		roles := []string{}
		for _, r := range u.Roles {
			if r != "member" {
				roles = append(roles, r)
			}
		}
		if len(roles) > 0 {
			_, err = client.UpdateUserRoles(ctx, user.ID.String(), codersdk.UpdateRoles{Roles: roles})
			l.must(err, "roles of %s", u.Username)
		}
	})
	parallel(len(s.OrganizationMembers), func(i int) {
		m := s.OrganizationMembers[i]
		org, user := l.id(m.OrganizationID), l.id(m.UserID)
		if org != defaultOrg {
			if _, err := client.PostOrganizationMember(ctx, org, user.String()); err != nil {
				l.must(err, "member %s of %s", m.UserID, m.OrganizationID)
			}
		}
		if m.Roles != nil && len(*m.Roles) > 0 {
			_, err := client.UpdateOrganizationMemberRoles(ctx, org, user.String(), codersdk.UpdateRoles{Roles: *m.Roles})
			l.must(err, "member roles of %s in %s", m.UserID, m.OrganizationID)
		}
	})
	for _, g := range s.Groups {
		if g.ID == g.OrganizationID {
			l.set(g.ID, l.id(g.OrganizationID)) // Everyone
			continue
		}
		group, err := client.CreateGroup(ctx, l.id(g.OrganizationID), codersdk.CreateGroupRequest{Name: g.Name, DisplayName: g.DisplayName, AvatarURL: g.AvatarURL, QuotaAllowance: g.QuotaAllowance})
		l.must(err, "group %s", g.Name)
		l.set(g.ID, group.ID)
		if len(g.Members) > 0 {
			add := []string{}
			for _, m := range g.Members {
				add = append(add, l.id(m).String())
			}
			_, err = client.PatchGroup(ctx, group.ID, codersdk.PatchGroupRequest{AddUsers: add})
			l.must(err, "members of group %s", g.Name)
		}
	}
	var tarball bytes.Buffer
	tb, err := echo.Tar(nil)
	l.must(err, "echo tar")
	tarball.Write(tb)
	for _, o := range s.Organizations {
		d.ensure(l.id(o.ID), map[string]string{})
	}
	for _, tp := range s.Templates {
		org := l.id(tp.OrganizationID)
		file, err := client.Upload(ctx, codersdk.ContentTypeTar, bytes.NewReader(tarball.Bytes()))
		l.must(err, "upload for %s", tp.Name)
		v, err := client.CreateTemplateVersion(ctx, org, codersdk.CreateTemplateVersionRequest{
			StorageMethod: codersdk.ProvisionerStorageMethodFile, FileID: file.ID, Provisioner: codersdk.ProvisionerTypeTerraform,
		})
		l.must(err, "version of %s", tp.Name)
		for {
			v, err = client.TemplateVersion(ctx, v.ID)
			l.must(err, "version of %s", tp.Name)
			if v.Job.Status == codersdk.ProvisionerJobSucceeded {
				break
			}
			if v.Job.Status == codersdk.ProvisionerJobFailed || v.Job.Status == codersdk.ProvisionerJobCanceled {
				t.Fatalf("load: version of %s: %s %s", tp.Name, v.Job.Status, v.Job.Error)
			}
			time.Sleep(100 * time.Millisecond)
		}
		ttl := tp.DefaultTTLMs
		tmpl, err := client.CreateTemplate(ctx, org, codersdk.CreateTemplateRequest{
			Name: tp.Name, DisplayName: tp.DisplayName, Description: tp.Description, Icon: tp.Icon, VersionID: v.ID, DefaultTTLMillis: &ttl,
		})
		l.must(err, "template %s", tp.Name)
		l.set(tp.ID, tmpl.ID)
		if tp.ACL != nil {
			acl := codersdk.UpdateTemplateACL{UserPerms: map[string]codersdk.TemplateRole{}, GroupPerms: map[string]codersdk.TemplateRole{}}
			for _, e := range tp.ACL.Users {
				acl.UserPerms[l.id(e.ID).String()] = codersdk.TemplateRole(e.Role)
			}
			for _, e := range tp.ACL.Group {
				acl.GroupPerms[l.id(e.ID).String()] = codersdk.TemplateRole(e.Role)
			}
			l.must(client.UpdateTemplateACL(ctx, tmpl.ID, acl), "acl of %s", tp.Name)
		}
		if tp.Deprecated {
			msg := tp.DeprecationMessage
			_, err = client.UpdateTemplateMeta(ctx, tmpl.ID, codersdk.UpdateTemplateMeta{DeprecationMessage: &msg})
			l.must(err, "deprecate %s", tp.Name)
		}
	}
	for _, w := range s.Workspaces {
		ws := dbfake.WorkspaceBuild(t, db, database.WorkspaceTable{
			Name: w.Name, OwnerID: l.id(w.OwnerID), OrganizationID: l.id(w.OrganizationID), TemplateID: l.id(w.TemplateID),
		}).Do()
		// Shares go through the API (PATCH /workspaces/{id}/acl), as an admin would share.
		if w.Shares != nil && len(w.Shares.Users)+len(w.Shares.Groups) > 0 {
			req := codersdk.UpdateWorkspaceACL{UserRoles: map[string]codersdk.WorkspaceRole{}, GroupRoles: map[string]codersdk.WorkspaceRole{}}
			for _, e := range w.Shares.Users {
				req.UserRoles[l.id(e.ID).String()] = codersdk.WorkspaceRole(e.Role)
			}
			for _, e := range w.Shares.Groups {
				req.GroupRoles[l.id(e.ID).String()] = codersdk.WorkspaceRole(e.Role)
			}
			l.must(client.UpdateWorkspaceACL(ctx, ws.Workspace.ID, req), "shares of workspace %s", w.Name)
		}
	}
	// A new org lets everyone's workspaces be shared: set the others, and each
	// org's default member roles where the snapshot names them.
	for _, o := range s.Organizations {
		if o.ShareableWorkspaceOwners != nil && *o.ShareableWorkspaceOwners != "everyone" {
			_, err := client.PatchWorkspaceSharingSettings(ctx, l.id(o.ID).String(), codersdk.UpdateWorkspaceSharingSettingsRequest{
				ShareableWorkspaceOwners: codersdk.ShareableWorkspaceOwners(*o.ShareableWorkspaceOwners),
			})
			l.must(err, "workspace sharing of %s", o.Name)
		}
		if o.DefaultOrgMemberRoles != nil {
			_, err := client.UpdateOrganization(ctx, l.id(o.ID).String(), codersdk.UpdateOrganizationRequest{DefaultOrgMemberRoles: o.DefaultOrgMemberRoles})
			l.must(err, "default member roles of %s", o.Name)
		}
	}
	for _, k := range s.ProvisionerKeys {
		_, err := client.CreateProvisionerKey(ctx, l.id(k.Organization), codersdk.CreateProvisionerKeyRequest{Name: k.Name, Tags: k.Tags})
		l.must(err, "provisioner key %s", k.Name)
	}
	if o := s.IdpSync.Organization; o != nil {
		m := map[string][]uuid.UUID{}
		for k, v := range o.Mapping {
			m[k] = uuids(l, v)
		}
		_, err := client.PatchOrganizationIDPSyncSettings(ctx, codersdk.OrganizationSyncSettings{Field: o.Field, Mapping: m, AssignDefault: o.AssignDflt})
		l.must(err, "organization sync")
	}
	for _, g := range s.IdpSync.Groups {
		m := map[string][]uuid.UUID{}
		for k, v := range g.Mapping {
			m[k] = uuids(l, v)
		}
		req := codersdk.GroupSyncSettings{Field: g.Field, Mapping: m, AutoCreateMissing: g.AutoCreate, LegacyNameMapping: g.Legacy}
		if g.RegexFilter != nil {
			re, err := regexp.Compile(*g.RegexFilter)
			l.must(err, "group sync regex")
			req.RegexFilter = re
		}
		_, err := client.PatchGroupIDPSyncSettings(ctx, l.id(g.OrganizationID).String(), req)
		l.must(err, "group sync of %s", g.OrganizationID)
	}
	for _, r := range s.IdpSync.Roles {
		_, err := client.PatchRoleIDPSyncSettings(ctx, l.id(r.OrganizationID).String(), codersdk.RoleSyncSettings{Field: r.Field, Mapping: r.Mapping})
		l.must(err, "role sync of %s", r.OrganizationID)
	}
}
