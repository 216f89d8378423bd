package voicecall_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExamplesImportNoInternalPackage: the examples are programs a user
// copies out of the repository, where internal/ packages cannot be
// imported.
func TestExamplesImportNoInternalPackage(t *testing.T) {
	t.Parallel()
	files := 0
	err := filepath.WalkDir("examples", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		files++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			assert.False(t, p == "github.com/voicecall-go/voicecall/internal" ||
				strings.HasPrefix(p, "github.com/voicecall-go/voicecall/internal/"),
				"%s imports %s", path, p)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, files, 4, "the examples were found")
}

// TestProgramConventions builds every example program and checks the
// conventions a newcomer relies on: -h exits 0 and writes, on stderr only,
// a usage line, the environment the program reads and its flags; no two
// servers listen on the same default port; and the notification path is
// the same everywhere (the sandbox pushes where the receivers listen).
func TestProgramConventions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every example program")
	}
	t.Parallel()
	entries, err := os.ReadDir("examples")
	require.NoError(t, err)
	dir := t.TempDir()
	ports := map[string]string{}
	helps := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || name == "internal" {
			continue
		}
		src := filepath.Join("examples", name)
		bin := filepath.Join(dir, name)
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir = src
		build.Env = append(os.Environ(), "GOWORK=off")
		if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
			build.Env = os.Environ() // a package of the root module
		}
		out, err := build.CombinedOutput()
		require.NoError(t, err, "go build %s: %s", src, out)

		var stdout, stderr strings.Builder
		cmd := exec.Command(bin, "-h")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "%s -h exits 0", name)
		assert.Empty(t, stdout.String(), "%s -h writes nothing on stdout", name)
		lines := strings.SplitN(stderr.String(), "\n", 3)
		require.Len(t, lines, 3, "%s -h: %s", name, stderr.String())
		assert.True(t, strings.HasPrefix(lines[0], "usage: "+name+" ") || lines[0] == "usage: "+name, "%s: the usage line first: %q", name, lines[0])
		assert.True(t, strings.HasPrefix(lines[1], "environment: "), "%s: the environment it reads next: %q", name, lines[1])
		assert.Contains(t, lines[2], "  -", "%s: then the flags", name)
		helps[name] = stderr.String()
		if m := regexp.MustCompile(`-addr string\n\s+.*\(default "([^"]+)"\)`).FindStringSubmatch(stderr.String()); m != nil {
			assert.Empty(t, ports[m[1]], "%s and %s both listen on %s by default", name, ports[m[1]], m[1])
			ports[m[1]] = name
		}
	}
	assert.Len(t, ports, 3, "the three servers (sandbox, webhook, otpserver) have default addresses: %v", ports)
	const path = "/voicecall/notify"
	for name, flag := range map[string]string{"webhook": "-path", "otpserver": "-notify-path", "sandbox": "-status-url"} {
		re := regexp.MustCompile(regexp.QuoteMeta(flag) + ` string\n\s+.*\(default "([^"]+)"\)`)
		m := re.FindStringSubmatch(helps[name])
		require.NotNil(t, m, "%s shows the default of %s", name, flag)
		assert.True(t, strings.HasSuffix(m[1], path), "%s %s defaults to the notification path %s: %q", name, flag, path, m[1])
	}
}
