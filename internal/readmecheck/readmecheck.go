// Package readmecheck compiles the Go snippets of Markdown files, so
// that the examples of the README and of docs/ cannot rot. The
// documentation tests use it: readme_test.go in the root package, and
// otel/readme_test.go and redisstore/readme_test.go for the blocks that
// use those modules, each through [Check] on [Docs].
//
// Each ```go block is compiled as one file of a package of its own:
//
//   - a block that starts with "package" is compiled as it is;
//   - a block whose first line declares something at top level ("func ",
//     "type ", "var ", "const ") is compiled as top-level declarations;
//   - any other block is a list of statements, compiled as the body of
//     func(ctx context.Context) error; the variables it defines at its top
//     level count as used (a fragment may stop before using them).
//
// The package also gets a prelude file declaring what snippets take from
// the application around them (appKey, store, ...), and the imports a
// block needs are added from a fixed table by the names it uses, so the
// README need not repeat them.
package readmecheck

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Block is one ```go block of a Markdown file.
type Block struct {
	File string // the Markdown file, for messages ("" reads as README)
	Line int    // line of its first line of code, from 1
	Code string // its text, without the fences
}

// where names the block's place for messages: "README.md line 12".
func (b Block) where() string {
	f := b.File
	if f == "" {
		f = "README"
	}
	return fmt.Sprintf("%s line %d", f, b.Line)
}

// Blocks returns the ```go blocks of md, in order.
func Blocks(md []byte) []Block {
	var out []Block
	var cur *Block
	var b strings.Builder
	for i, line := range strings.Split(string(md), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```go":
			cur = &Block{Line: i + 2}
			b.Reset()
		case cur != nil && trimmed == "```":
			cur.Code = b.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return out
}

// Source returns the Go file a block compiles as, in package pkg, with
// the imports of table (name -> import path) it uses.
func Source(blk Block, pkg string, table map[string]string) (string, error) {
	code := blk.Code
	var body string
	first := strings.TrimSpace(code)
	switch {
	case strings.HasPrefix(first, "package "):
		return code, nil
	case strings.HasPrefix(first, "func "), strings.HasPrefix(first, "type "),
		strings.HasPrefix(first, "var "), strings.HasPrefix(first, "const "):
		body = code
	default:
		uses, err := definedNames(blk)
		if err != nil {
			return "", err
		}
		body = "func _(ctx context.Context) error {\n" + code + uses + "\treturn nil\n}\n"
	}
	src := "package " + pkg + "\n\n" + body
	// Find the package names the block uses: X in X.Sel where X is not
	// declared in the block.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	if err != nil {
		return "", fmt.Errorf("%s: %w", blk.where(), err)
	}
	declared := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						declared[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				declared[id.Name] = true
			}
		case *ast.Field:
			for _, id := range n.Names {
				declared[id.Name] = true
			}
		}
		return true
	})
	used := map[string]bool{}
	if body != code {
		used["context"] = true // the wrapper's parameter
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && !declared[id.Name] {
				if _, known := table[id.Name]; known {
					used[id.Name] = true
				}
			}
		}
		return true
	})
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	slices.Sort(names)
	var imports strings.Builder
	for _, n := range names {
		p, ok := table[n]
		if !ok {
			p = n // context, added for the wrapper
		}
		if filepath.Base(p) == n {
			fmt.Fprintf(&imports, "import %q\n", p)
		} else {
			fmt.Fprintf(&imports, "import %s %q\n", n, p)
		}
	}
	return "package " + pkg + "\n\n" + imports.String() + "\n" + body, nil
}

// definedNames returns "_ = name" lines for the variables a statement
// block defines at its top level, so that a fragment which stops before
// using them ("resp, err := client.CallVerify(...)") still compiles.
func definedNames(blk Block) (string, error) {
	src := "package p\n\nfunc _() {\n" + blk.Code + "}\n"
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return "", fmt.Errorf("%s: %w", blk.where(), err)
	}
	var b strings.Builder
	use := func(id *ast.Ident) {
		if id.Name != "_" {
			fmt.Fprintf(&b, "\t_ = %s\n", id.Name)
		}
	}
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, l := range st.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						use(id)
					}
				}
			}
		case *ast.DeclStmt:
			if gd, ok := st.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
				for _, spec := range gd.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						use(id)
					}
				}
			}
		}
	}
	return b.String(), nil
}

// Build writes each block, with prelude (a Go file without its package
// clause), into a package of its own under dir, which must lie inside the
// module whose root is moduleDir, and compiles them all with one go
// build. dir is made if missing. It removes what it wrote and returns go build's output on
// failure.
func Build(moduleDir, dir string, blocks []Block, prelude string, table map[string]string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		defer os.Remove(dir) // made here: removed once empty
	}
	root, err := os.MkdirTemp(dir, "readme-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	var pkgs []string
	for i, blk := range blocks {
		pkg := fmt.Sprintf("snippet%02d", i+1)
		src, err := Source(blk, pkg, table)
		if err != nil {
			return err
		}
		pdir := filepath.Join(root, pkg)
		if err := os.Mkdir(pdir, 0o755); err != nil {
			return err
		}
		header := "// " + blk.where() + "\n"
		if err := os.WriteFile(filepath.Join(pdir, "snippet.go"), []byte(header+src), 0o644); err != nil {
			return err
		}
		if !strings.HasPrefix(strings.TrimSpace(blk.Code), "package ") {
			pre := "package " + pkg + "\n\n" + prelude
			if err := os.WriteFile(filepath.Join(pdir, "prelude.go"), []byte(pre), 0o644); err != nil {
				return err
			}
		}
		rel, err := filepath.Rel(moduleDir, pdir)
		if err != nil {
			return err
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(rel))
	}
	if len(pkgs) == 0 {
		return nil
	}
	cmd := exec.Command("go", append([]string{"build", "-o", os.DevNull}, pkgs...)...)
	cmd.Dir = moduleDir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build of the documentation's snippets: %w\n%s", err, out.String())
	}
	return nil
}

// Docs returns the Markdown files of the repository whose root is root:
// README.md and every docs/*.md.
func Docs(root string) []string {
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md")) // the pattern is valid
	return append([]string{filepath.Join(root, "README.md")}, files...)
}

// Check is a module's documentation test: it compiles, with [Build] in
// the module of the current directory, the ```go blocks of the Markdown
// files for which keep reports true, and fails t when there are none in
// all (what names what the blocks should show) or when they do not
// compile. It skips with -short (it runs go build) and without a go
// command.
func Check(t *testing.T, files []string, what string, keep func(code string) bool, prelude string, table map[string]string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go build")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	t.Parallel()
	var blocks []Block
	for _, file := range files {
		md, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range Blocks(md) {
			if keep(b.Code) {
				b.File = filepath.Base(file)
				blocks = append(blocks, b)
			}
		}
	}
	if len(blocks) == 0 {
		t.Fatalf("%v: no Go blocks: %s", files, what)
	}
	if err := Build(".", "testdata", blocks, prelude, table); err != nil {
		t.Fatal(err)
	}
}
