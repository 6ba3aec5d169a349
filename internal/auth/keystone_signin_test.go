package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"allot/internal/model"
)

// signInKeystone answers users' password sign-ins (POST /v3/auth/tokens
// for any user but allot) as Keystone does, and leaves the rest to
// fakeKeystone: alice's password is "alice-pw"; "locked" is refused with
// Keystone's lockout message; "broken" makes Keystone fail (500). It
// records the bodies it received.
type signInKeystone struct {
	*fakeKeystone
	front  *httptest.Server
	bodies []map[string]any
}

func newSignInKeystone(t *testing.T) *signInKeystone {
	s := &signInKeystone{fakeKeystone: newFakeKeystone(t)}
	s.front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var doc map[string]any
		json.Unmarshal(raw, &doc)
		var user struct {
			Name     string `json:"name"`
			Password string `json:"password"`
		}
		if r.Method == http.MethodPost {
			u, _ := json.Marshal(dig(doc, "auth", "identity", "password", "user"))
			json.Unmarshal(u, &user)
		}
		if r.Method != http.MethodPost || user.Name == "allot" {
			r.Body = io.NopCloser(bytes.NewReader(raw))
			s.fakeKeystone.serve(w, r)
			return
		}
		s.mu.Lock()
		s.bodies = append(s.bodies, doc)
		s.mu.Unlock()
		refuse := func(status int, msg string) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"title":%q}}`, status, msg, http.StatusText(status))
		}
		switch {
		case user.Name == "broken":
			w.WriteHeader(http.StatusInternalServerError)
			return
		case user.Name == "locked":
			refuse(http.StatusUnauthorized, "The account is locked for user: u-locked.")
			return
		case user.Name != "alice" || user.Password != "alice-pw":
			refuse(http.StatusUnauthorized, "The request you have made requires authentication.")
			return
		}
		token := map[string]any{"expires_at": "2031-01-02T03:04:05.000000Z", "user": map[string]any{"id": "u-alice", "domain": map[string]any{"id": "default"}},
			"roles": []any{map[string]any{"name": "reader"}, map[string]any{"name": "member"}}}
		if dig(doc, "auth", "scope", "system") != nil {
			token["system"] = map[string]any{"all": true}
		} else {
			token["project"] = map[string]any{"id": "p-alpha", "domain": map[string]any{"id": "default"}}
		}
		w.Header().Set("X-Subject-Token", "alice-token")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"token": token})
	}))
	t.Cleanup(s.front.Close)
	return s
}

// dig follows keys through nested JSON objects (nil when one is missing).
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func TestKeystoneSignIn(t *testing.T) {
	ks := newSignInKeystone(t)
	var logs bytes.Buffer
	k, err := NewKeystone(KeystoneConfig{AuthURL: ks.front.URL + "/v3", Username: "allot", Password: "pw", ProjectName: "service",
		Timeout: 5 * time.Second}, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	// allot is logged in as its service user before any sign-in.
	ks.add("tok", time.Now().Add(time.Hour), nil)
	mustAuth(t, k, request("X-Auth-Token", "tok"))

	expires := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		in        PasswordSignIn
		want      IssuedToken
		wantScope any // the scope Keystone received
		kind      model.Kind
		says      string
	}{
		{name: "project", in: PasswordSignIn{Username: "alice", Password: "alice-pw", UserDomain: "Default", Project: "alpha", ProjectDomain: "Default"},
			want:      IssuedToken{ID: "alice-token", ExpiresAt: expires, UserID: "u-alice", ProjectID: "p-alpha", Roles: []string{"reader", "member"}},
			wantScope: map[string]any{"project": map[string]any{"name": "alpha", "domain": map[string]any{"name": "Default"}}}},
		{name: "project in the default domain", in: PasswordSignIn{Username: "alice", Password: "alice-pw", Project: "alpha"},
			want:      IssuedToken{ID: "alice-token", ExpiresAt: expires, UserID: "u-alice", ProjectID: "p-alpha", Roles: []string{"reader", "member"}},
			wantScope: map[string]any{"project": map[string]any{"name": "alpha", "domain": map[string]any{"id": "default"}}}},
		{name: "system", in: PasswordSignIn{Username: "alice", Password: "alice-pw", System: true},
			want:      IssuedToken{ID: "alice-token", ExpiresAt: expires, UserID: "u-alice", System: true, Roles: []string{"reader", "member"}},
			wantScope: map[string]any{"system": map[string]any{"all": true}}},
		{name: "wrong password", in: PasswordSignIn{Username: "alice", Password: "guess-1", Project: "alpha"},
			kind: model.KindUnauthorized, says: `Keystone refused the sign-in of user "alice": The request you have made requires authentication.`},
		{name: "Keystone's reason", in: PasswordSignIn{Username: "locked", Password: "guess-2", Project: "alpha"},
			kind: model.KindUnauthorized, says: "The account is locked for user: u-locked."},
		{name: "Keystone fails", in: PasswordSignIn{Username: "broken", Password: "guess-3", Project: "alpha"},
			kind: model.KindUnavailable, says: "is unreachable (it answered HTTP 500)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := k.SignIn(context.Background(), tc.in)
			if tc.says != "" {
				wantKind(t, err, tc.kind, tc.says)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.ExpiresAt.Equal(tc.want.ExpiresAt) {
				t.Errorf("expires %s, want %s", got.ExpiresAt, tc.want.ExpiresAt)
			}
			got.ExpiresAt = tc.want.ExpiresAt
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SignIn: %+v, want %+v", got, tc.want)
			}
			ks.mu.Lock()
			last := ks.bodies[len(ks.bodies)-1]
			ks.mu.Unlock()
			if scope := dig(last, "auth", "scope"); !reflect.DeepEqual(scope, tc.wantScope) {
				t.Errorf("Keystone received scope %v, want %v", scope, tc.wantScope)
			}
		})
	}

	// A refused sign-in is not allot's own credentials failing: allot did
	// not log in again, and validates tokens as before.
	if n := ks.logins.Load(); n != 1 {
		t.Errorf("allot logged in %d times, want once", n)
	}
	ks.add("tok2", time.Now().Add(time.Hour), nil)
	mustAuth(t, k, request("X-Auth-Token", "tok2"))

	// Keystone gone: a 503 that names it.
	ks.front.Close()
	_, err = k.SignIn(context.Background(), PasswordSignIn{Username: "alice", Password: "alice-pw", Project: "alpha"})
	wantKind(t, err, model.KindUnavailable, "is unreachable (no answer)")

	// No password reached the log.
	for _, pw := range []string{"alice-pw", "guess-1", "guess-2", "guess-3"} {
		if strings.Contains(logs.String(), pw) {
			t.Errorf("the log holds the password %q:\n%s", pw, logs.String())
		}
	}
}
