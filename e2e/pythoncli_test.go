package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// pythonCLI runs one of the real OpenStack command-line clients (Debian's
// python3-openstackclient or python3-ironicclient) against an endpoint,
// without Keystone: every command gets the prefix arguments (auth type,
// endpoint, version).
type pythonCLI struct {
	t      *testing.T
	name   string
	bin    string
	prefix []string
	env    []string
}

// newPythonCLI finds the command name (skipping the test, or failing it in
// CI, when it is not installed: install says how to get it).
func newPythonCLI(t *testing.T, name, install string, prefix ...string) *pythonCLI {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, "the "+name+" command is not installed ("+install+"): skipping its scenario")
	}
	env := []string{"HOME=" + t.TempDir(), "LANG=C.UTF-8"}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return &pythonCLI{t: t, name: name, bin: bin, prefix: prefix, env: env}
}

// exec runs one command and returns its outputs and whether it succeeded.
func (c *pythonCLI) exec(args ...string) (stdout, stderr string, ok bool) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(append([]string(nil), c.prefix...), args...)...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err == nil
}

// run runs one command and returns its stdout; it fails the test unless the
// command succeeds.
func (c *pythonCLI) run(args ...string) string {
	c.t.Helper()
	start := time.Now()
	out, errs, ok := c.exec(args...)
	if !ok {
		c.t.Fatalf("%s %s failed (%s)\nstdout:\n%s\nstderr:\n%s", c.name, strings.Join(args, " "), time.Since(start), out, errs)
	}
	return out
}

// runJSON runs a command with -f json and decodes its output.
func (c *pythonCLI) runJSON(out any, args ...string) {
	c.t.Helper()
	text := c.run(append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(text), out); err != nil {
		c.t.Fatalf("%s %s: decode %q: %v", c.name, strings.Join(args, " "), text, err)
	}
}
