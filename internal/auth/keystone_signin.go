package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"allot/internal/model"
)

// PasswordSignIn is a user's password authentication, scoped to a project
// or to the system, as a client that cannot reach Keystone itself (the web
// console) asks allot to make it.
type PasswordSignIn struct {
	Username   string
	UserDomain string // a domain name; "" is Keystone's default domain
	Password   string
	// Project names the project of a project-scoped token (in
	// ProjectDomain, a name; "" is Keystone's default domain); System asks
	// for a system-scoped token instead.
	Project       string
	ProjectDomain string
	System        bool
}

// IssuedToken is a token Keystone issued for a PasswordSignIn, with what it
// says of its holder.
type IssuedToken struct {
	ID        string
	ExpiresAt time.Time
	UserID    string
	ProjectID string // "" for a system-scoped token
	System    bool
	Roles     []string
}

// SignIn forwards a password authentication to Keystone
// (POST {auth_url}/v3/auth/tokens) and returns the token it issued. allot
// neither keeps nor logs the password: it goes to Keystone and nowhere
// else. Keystone refusing the credentials is a KindUnauthorized error with
// Keystone's own reason, a malformed request Keystone refuses a
// KindBadRequest one, and Keystone unreachable or failing a KindUnavailable
// one.
//
// The request goes through a client of its own, not allot's service
// client: a refusal must come back as it is, not make allot log in again
// (gophercloud re-authenticates on any 401).
func (k *KeystoneAuth) SignIn(ctx context.Context, in PasswordSignIn) (IssuedToken, error) {
	opts := &tokens.AuthOptions{Username: in.Username, Password: in.Password, DomainName: in.UserDomain}
	if opts.DomainName == "" {
		opts.DomainID = "default"
	}
	switch {
	case in.System:
		opts.Scope = tokens.Scope{System: true}
	case in.Project != "":
		opts.Scope = tokens.Scope{ProjectName: in.Project, DomainName: in.ProjectDomain}
		if in.ProjectDomain == "" {
			opts.Scope.DomainID = "default"
		}
	}
	ctx, cancel := context.WithTimeout(ctx, k.cfg.Timeout)
	defer cancel()
	start := time.Now()
	res := tokens.Create(ctx, k.signIn, opts)
	if res.Err != nil {
		return IssuedToken{}, k.signInError(in, res.Err)
	}
	var body tokenBody
	id, err := res.ExtractTokenID()
	if err == nil {
		err = res.ExtractInto(&body) // the "token" member
	}
	if err != nil || id == "" {
		k.logger.Error("keystone: a sign-in's answer is unreadable", "auth_url", k.authURL, "user", in.Username, "error", err)
		return IssuedToken{}, model.Errorf(model.KindUnavailable,
			"Keystone at %s issued a token in an answer allot cannot read: try again later.", k.authURL)
	}
	info := newTokenInfo(&body)
	k.logger.Info("keystone: a user signed in through allot", "user", in.Username, "user_id", info.userID,
		"project", info.projectID, "system", info.systemAll, "expires", info.expiresAt, "took", time.Since(start))
	return IssuedToken{ID: id, ExpiresAt: info.expiresAt, UserID: info.userID, ProjectID: info.projectID,
		System: info.systemAll, Roles: append([]string{}, info.roles...)}, nil
}

// signInError turns a failed sign-in into the client's error: Keystone's
// own 4xx with its message, anything else a 503 (and a log line, which
// never carries the password: gophercloud's errors name the URL and
// Keystone's answer, not the request).
func (k *KeystoneAuth) signInError(in PasswordSignIn, err error) error {
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		reason := keystoneReason(code.Body)
		switch {
		case code.Actual == http.StatusUnauthorized:
			k.logger.Info("keystone: a sign-in was refused", "user", in.Username, "reason", reason)
			return model.Errorf(model.KindUnauthorized, "Keystone refused the sign-in of user %q: %s", in.Username, reason)
		case code.Actual == http.StatusForbidden:
			return model.Errorf(model.KindForbidden, "Keystone refused the sign-in of user %q: %s", in.Username, reason)
		case code.Actual == http.StatusBadRequest || code.Actual == http.StatusNotFound:
			return model.BadRequest("Keystone refused the sign-in request: %s", reason)
		}
	}
	detail := "no answer"
	if errors.As(err, &code) {
		detail = fmt.Sprintf("it answered HTTP %d", code.Actual)
	} else if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		detail = "no answer within " + k.cfg.Timeout.String()
	}
	k.logger.Error("keystone: a sign-in could not reach Keystone", "auth_url", k.authURL, "user", in.Username, "error", err)
	return model.Errorf(model.KindUnavailable, "Keystone at %s is unreachable (%s): signing in is not possible now. Try again later.", k.authURL, detail)
}

// keystoneReason is the message of Keystone's error document
// ({"error": {"message": ...}}), or a word on the answer when there is none.
func keystoneReason(body []byte) string {
	var doc struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil && strings.TrimSpace(doc.Error.Message) != "" {
		return model.Clip(strings.TrimSpace(doc.Error.Message), 500)
	}
	return "Keystone gave no reason."
}
