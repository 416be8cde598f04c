package sandboxtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rootMarkers are the kit's calls that make a test need root.
var rootMarkers = map[string]bool{"RequireRoot": true, "NewCLI": true, "Dockerd": true}

// Tests one can find: a test or benchmark that needs root (calls
// RequireRoot, NewCLI or Dockerd itself) lives in a file named
// *_root_test.go, so that a reader sees at once what runs only as root.
func TestRootTestsAreInRootFiles(t *testing.T) {
	root := filepath.Join(moduleRoot())
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "_root_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil || fn.Recv != nil {
				continue
			}
			if n := fn.Name.Name; !strings.HasPrefix(n, "Test") && !strings.HasPrefix(n, "Benchmark") {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && rootMarkers[sel.Sel.Name] {
						rel, _ := filepath.Rel(root, path)
						t.Errorf("%s: %s needs root (%s): move it to a *_root_test.go file", rel, fn.Name.Name, sel.Sel.Name)
						return false
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
