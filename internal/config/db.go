package config

import (
	"fmt"
	"net/url"
	"strings"
)

// connection maps [placement_database] connection, an SQLAlchemy URL,
// onto allot's store DSN (with connection_parameters appended to a
// PostgreSQL URL's query, as oslo.db does).
func connection(r *reader, k *key, vals []value) error {
	v := vals[len(vals)-1]
	text, err := expand(strings.TrimSpace(v.text))
	if err != nil {
		return r.errorf(v, "%v", err)
	}
	params := ""
	if pv := r.values["placement_database.connection_parameters"]; len(pv) > 0 {
		if params, err = expand(strings.TrimSpace(pv[len(pv)-1].text)); err != nil {
			return r.errorf(pv[len(pv)-1], "%v", err)
		}
	}
	dsn, warn, err := DSN(text, params)
	if err != nil {
		return r.errorf(v, "%v", err)
	}
	if warn != "" {
		r.warnf(v.line, v.section, v.key, "%s", warn)
	}
	r.set(k.setting, dsn, v)
	return nil
}

// DSN maps an SQLAlchemy database URL (with oslo.db's
// connection_parameters, "" for none) onto allot's store DSN:
// sqlite:///relative/path and sqlite:////absolute/path become
// sqlite:PATH; postgresql://, postgresql+DRIVER:// and postgres:// become
// postgres://, query parameters kept (pgx reads host and port there, for
// a socket directory). MySQL and other databases are an error. warning,
// when not empty, says what of the URL allot ignores. Errors never repeat
// the URL, which may hold a password.
func DSN(sqlalchemyURL, params string) (dsn, warning string, err error) {
	scheme, rest, ok := strings.Cut(sqlalchemyURL, "://")
	if !ok || scheme == "" {
		return "", "", fmt.Errorf("not a database URL (want dialect://..., e.g. postgresql://USER:PASSWORD@HOST/DB or sqlite:////var/lib/allot/allot.db)")
	}
	dialect, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	switch dialect {
	case "sqlite":
		if rest == "" || rest == "/" {
			return "", "", fmt.Errorf("an in-memory SQLite database (%s://) cannot be shared by a connection pool: name a file, sqlite:///relative/path or sqlite:////absolute/path", scheme)
		}
		if !strings.HasPrefix(rest, "/") {
			return "", "", fmt.Errorf("a SQLite URL names a file, not a host: write sqlite:///relative/path or sqlite:////absolute/path")
		}
		path, query, hasQuery := strings.Cut(rest[1:], "?")
		if path == ":memory:" {
			return "", "", fmt.Errorf("an in-memory SQLite database cannot be shared by a connection pool: name a file")
		}
		if hasQuery && query != "" || params != "" {
			warning = "the SQLite URL's query parameters and connection_parameters are ignored: allot sets its own SQLite options"
		}
		return "sqlite:" + path, warning, nil
	case "postgresql", "postgres":
		dsn = "postgres://" + rest
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", fmt.Errorf("malformed PostgreSQL URL: %v", redactURLError(err))
		}
		if params != "" {
			if _, err := url.ParseQuery(params); err != nil {
				return "", "", fmt.Errorf("connection_parameters: malformed (want param1=value1&param2=value2): %v", err)
			}
			if u.RawQuery != "" || u.ForceQuery {
				dsn += "&" + params
			} else {
				dsn += "?" + params
			}
		}
		return dsn, "", nil
	case "mysql", "mariadb":
		return "", "", fmt.Errorf("MySQL is not supported: allot stores its data in PostgreSQL (postgresql://USER:PASSWORD@HOST/DB) or SQLite (sqlite:////path/allot.db)")
	}
	return "", "", fmt.Errorf("the %q database is not supported: use postgresql://USER:PASSWORD@HOST/DB or sqlite:////path/allot.db", scheme)
}

// redactURLError keeps net/url's reason but not the URL it quotes.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
