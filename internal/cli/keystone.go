package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"allot/internal/client"
)

// clientKeystone is the OpenStack client's password-authentication
// settings (--os-auth-url, OS_AUTH_URL, ...): with an auth URL, the client
// commands log in to Keystone, send the token they get, and find the API's
// URL in the catalog unless --placement-url / --baremetal-url (or their
// environment variables) name it.
type clientKeystone struct {
	auth client.KeystoneAuth
}

// clientKeystoneSetting names one flag, its environment variable and its field.
type clientKeystoneSetting struct {
	flag, env, usage string
	field            func(a *client.KeystoneAuth) *string
}

var clientKeystoneSettings = []clientKeystoneSetting{
	{"os-auth-type", "OS_AUTH_TYPE", "`password` (or v3password): the only authentication the client commands do besides --token", func(a *client.KeystoneAuth) *string { return &a.AuthType }},
	{"os-auth-url", "OS_AUTH_URL", "Keystone's `URL`: log in with a password instead of sending --token", func(a *client.KeystoneAuth) *string { return &a.AuthURL }},
	{"os-username", "OS_USERNAME", "user `NAME` to log in as", func(a *client.KeystoneAuth) *string { return &a.Username }},
	{"os-user-id", "OS_USER_ID", "user `ID` to log in as", func(a *client.KeystoneAuth) *string { return &a.UserID }},
	{"os-password", "OS_PASSWORD", "the user's `PASSWORD` (prefer the environment variable)", func(a *client.KeystoneAuth) *string { return &a.Password }},
	{"os-user-domain-name", "OS_USER_DOMAIN_NAME", "the user's domain `NAME` (default: the domain default)", func(a *client.KeystoneAuth) *string { return &a.UserDomainName }},
	{"os-user-domain-id", "OS_USER_DOMAIN_ID", "the user's domain `ID`", func(a *client.KeystoneAuth) *string { return &a.UserDomainID }},
	{"os-project-name", "OS_PROJECT_NAME", "project `NAME` to scope the token to", func(a *client.KeystoneAuth) *string { return &a.ProjectName }},
	{"os-project-id", "OS_PROJECT_ID", "project `ID` to scope the token to", func(a *client.KeystoneAuth) *string { return &a.ProjectID }},
	{"os-project-domain-name", "OS_PROJECT_DOMAIN_NAME", "the project's domain `NAME` (default: the domain default)", func(a *client.KeystoneAuth) *string { return &a.ProjectDomainName }},
	{"os-project-domain-id", "OS_PROJECT_DOMAIN_ID", "the project's domain `ID`", func(a *client.KeystoneAuth) *string { return &a.ProjectDomainID }},
	{"os-system-scope", "OS_SYSTEM_SCOPE", "`all` for a system-scoped token instead of a project-scoped one", func(a *client.KeystoneAuth) *string { return &a.SystemScope }},
	{"os-region-name", "OS_REGION_NAME", "`REGION` of the catalog endpoints", func(a *client.KeystoneAuth) *string { return &a.RegionName }},
	{"os-interface", "OS_INTERFACE", "catalog endpoint `INTERFACE`: public, internal or admin (default public)", func(a *client.KeystoneAuth) *string { return &a.Interface }},
}

// register adds the flags to fs.
func (k *clientKeystone) register(fs *pflag.FlagSet) {
	for _, s := range clientKeystoneSettings {
		fs.StringVar(s.field(&k.auth), s.flag, "", s.usage+" ["+s.env+"]")
	}
}

// resolve returns the settings in force for cmd: each flag when given, else
// its environment variable.
func (k *clientKeystone) resolve(cmd *cobra.Command) client.KeystoneAuth {
	var a client.KeystoneAuth
	for _, s := range clientKeystoneSettings {
		*s.field(&a) = setting(cmd, s.flag, s.env, *s.field(&k.auth))
	}
	return a
}

// connection is the URL and token a client command uses: with an auth URL
// it logs in and takes the token (unless --token or OS_TOKEN names one) and
// the catalog's endpoint of serviceType (unless urlFlag or urlEnv names the
// URL).
func (o *clientOptions) connection(cmd *cobra.Command, serviceType, urlFlag, urlEnv, url, token string) (string, string, error) {
	url = setting(cmd, urlFlag, urlEnv, url)
	token = setting(cmd, "token", "OS_TOKEN", token)
	a := o.keystone.resolve(cmd)
	if a.AuthURL == "" {
		return url, token, nil
	}
	if a.AuthType != "" && a.AuthType != "password" && a.AuthType != "v3password" {
		return "", "", usageError{fmt.Errorf("--os-auth-type %q: allot's client logs in with password (or sends --token)", a.AuthType)}
	}
	tokenGiven := cmd.Flags().Changed("token") || os.Getenv("OS_TOKEN") != ""
	urlGiven := cmd.Flags().Changed(urlFlag) || os.Getenv(urlEnv) != ""
	if tokenGiven && urlGiven {
		return url, token, nil
	}
	s, err := client.Login(cmd.Context(), a)
	if err != nil {
		return "", "", err
	}
	if !tokenGiven {
		token = s.Token
	}
	if !urlGiven {
		if url, err = s.Endpoint(serviceType); err != nil {
			return "", "", err
		}
	}
	return url, token, nil
}
