// Command roottests prints, for each package directory given, the top-level
// tests marked for the cgroup v2 VM: those that call
// sandboxtest.AlsoOnCgroupV2, directly or through helpers of the same
// package. .ci/cgroup-v2 runs only these in the VM: everything else is
// covered by the host's run, and computation is up to 60× slower under
// emulation, so the VM's time goes to what cgroup v2 (or its other kernel)
// must be seen to do.
//
//	go run .ci/vm/roottests.go DIR...
//
// prints "DIR Test1|Test2|..." per directory ("DIR" alone if it found none).
// It lives under .ci/ (which `./...` skips) and uses only the standard library.
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// markers are the calls that put a test in the VM's run.
var markers = map[string]bool{"AlsoOnCgroupV2": true}

func main() {
	for _, dir := range os.Args[1:] {
		tests, err := rootTests(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "roottests: %s: %v\n", dir, err)
			os.Exit(1)
		}
		fmt.Println(strings.TrimSpace(dir + " " + strings.Join(tests, "|")))
	}
}

// rootTests finds the functions of the directory's test files that reach a
// marker, by name (a call f() or x.f() reaches every function or method named
// f: coarse, but it errs on the side of running a test).
func rootTests(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	calls := map[string]map[string]bool{} // function name → names it calls
	var tests []string
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			name := fn.Name.Name
			if calls[name] == nil {
				calls[name] = map[string]bool{}
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					switch fun := call.Fun.(type) {
					case *ast.Ident:
						calls[name][fun.Name] = true
					case *ast.SelectorExpr:
						calls[name][fun.Sel.Name] = true
					}
				}
				return true
			})
			if fn.Recv == nil && strings.HasPrefix(name, "Test") && name != "TestMain" {
				tests = append(tests, name)
			}
		}
	}
	root := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for fn, callees := range calls {
			if root[fn] {
				continue
			}
			for callee := range callees {
				if markers[callee] || root[callee] {
					root[fn] = true
					changed = true
					break
				}
			}
		}
	}
	var out []string
	for _, t := range tests {
		if root[t] {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}
