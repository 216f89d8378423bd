package readmecheck

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBlocks(t *testing.T) {
	t.Parallel()
	md := "# t\n\n```go\na := 1\n```\n\n```sh\nls\n```\n\n  ```go\nfunc f() {}\n  ```\n"
	blocks := Blocks([]byte(md))
	require.Len(t, blocks, 2)
	assert.Equal(t, Block{Line: 4, Code: "a := 1\n"}, blocks[0])
	assert.Equal(t, Block{Line: 12, Code: "func f() {}\n"}, blocks[1])
}

func TestSource(t *testing.T) {
	t.Parallel()
	table := map[string]string{"voicecall": "github.com/voicecall-go/voicecall", "errors": "errors", "log": "log", "vcotel": "github.com/voicecall-go/voicecall/otel"}
	for _, tc := range []struct {
		name, code string
		want, not  []string
	}{
		{"statements", "err := errors.New(\"x\")\nlog.Print(err)\n",
			[]string{"import \"context\"", "import \"errors\"", "import \"log\"", "func _(ctx context.Context) error {"}, []string{"voicecall"}},
		{"declarations", "func f() error { return errors.New(\"x\") }\n",
			[]string{"import \"errors\"", "func f()"}, []string{"context", "func _("}},
		{"shadowed name", "log := 1\n_ = log.X\n", nil, []string{"import \"log\""}},
		{"renamed import", "_ = vcotel.ClientOption\n", []string{`import vcotel "github.com/voicecall-go/voicecall/otel"`}, nil},
		{"whole file", "package x\n\nfunc f() {}\n", []string{"package x\n"}, []string{"package p"}},
	} {
		src, err := Source(Block{Line: 1, Code: tc.code}, "p", table)
		require.NoError(t, err, tc.name)
		for _, w := range tc.want {
			assert.Contains(t, src, w, tc.name)
		}
		for _, n := range tc.not {
			assert.NotContains(t, src, n, tc.name)
		}
	}
	_, err := Source(Block{Line: 7, Code: "a := \n"}, "p", table)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "README line 7"), err.Error())
	_, err = Source(Block{File: "NOTIFICATIONS.md", Line: 9, Code: "a := \n"}, "p", table)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "NOTIFICATIONS.md line 9"), err.Error())
}

func TestDefinedNamesCountAsUsed(t *testing.T) {
	t.Parallel()
	src, err := Source(Block{Line: 1, Code: "resp, err := f()\nvar x, _ int\nif true {\n\tinner := 1\n\t_ = inner\n}\n"}, "p", nil)
	require.NoError(t, err)
	assert.Contains(t, src, "\t_ = resp\n\t_ = err\n\t_ = x\n\treturn nil\n")
	assert.NotContains(t, src, "_ = _")
	assert.Equal(t, 1, strings.Count(src, "_ = inner"), "only the top level")
}
