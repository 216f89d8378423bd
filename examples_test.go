package voicecall_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
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
