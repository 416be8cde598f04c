package lifecycle_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The pieces that parse or check a run flag. Each must be called from
// exactly one place on the way of a run: the flag's pflag.Value, or
// Engine.prepare and what it calls.
var runFlagChecks = []string{
	"glassbox/sandbox/cgroup.ParseMemory",           // --memory's syntax
	"(glassbox/sandbox/cgroup.Resources).Validate",  // --memory, --cpus, --pids-limit
	"glassbox/sandbox/network.ParsePort",            // -p's syntax
	"glassbox/sandbox/network.CheckPorts",           // -p: twice the same, in use
	"glassbox/sandbox/lifecycle.ParsePolicy",        // --restart
	"(*glassbox/sandbox/lifecycle.Request).check",   // --restart, --stop-timeout, --log-opt without -d
	"(*glassbox/sandbox/lifecycle.LogConfig).Apply", // --log-opt's syntax
	"glassbox/sandbox/state.CheckName",              // --name
	"glassbox/sandbox.checkHostname",                // --hostname
	"glassbox/sandbox.checkEnv",                     // -e
	"(*glassbox/sandbox.Config).ValidateInput",      // every field the user gave, --network, --workdir
	"glassbox/sandbox.CheckHost",                    // root, overlayfs, cgroups, --userns
	"(*glassbox/sandbox/image.Store).Get",           // IMAGE
	"(*glassbox/sandbox.Config).ValidateImage",      // COMMAND, the image's layers
	"(*glassbox/sandbox/lifecycle.Engine).prepare",  // the request as a whole
	"glassbox/sandbox/cgroup.CPUs",                  // --cpus into a quota
	"glassbox/sandbox.MergeEnv",                     // -e over the image's environment
	"(*glassbox/sandbox/image.Image).TopFirst",      // the image's layers
	"(*glassbox/sandbox.Security).SecurityOpt",      // --security-opt's syntax, reading a profile
	"(*glassbox/sandbox.Security).resolve",          // --cap-add, --cap-drop, the profile, --privileged
}

// The two ways of a run, by their entry points: the flags' pflag.Values
// (cmd/glassbox/runflags.go) and the engine's call — RunForeground, or Run
// and then, in a process of its own, the supervisor that starts the sandbox
// from its spec (startRuntime is what its startSandbox is).
var runWays = map[string][]string{
	"foreground": {"(*glassbox/sandbox/lifecycle.Engine).RunForeground"},
	"detached": {"(*glassbox/sandbox/lifecycle.Engine).Run",
		"glassbox/sandbox/lifecycle.Supervise", "glassbox/sandbox/lifecycle.startRuntime"},
}

const flagsFile, verbFile = "cmd/glassbox/runflags.go", "cmd/glassbox/run.go"

// TestEachRunFlagIsCheckedOnce reads the module's code (not its tests),
// follows the static calls from each way of a run, and counts the call
// sites of each piece that parses or checks a flag among the functions
// reached: at most one on each way, and one at least on one of them. A
// second check of a flag anywhere on the way (the runtime, the supervisor)
// fails it, and so does a check in the verb itself.
func TestEachRunFlagIsCheckedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the module")
	}
	checkedOnce(t, loadCallGraph(t), runFlagChecks, runWays, flagsFile, verbFile)
}

// The pieces that check an exec flag, and the way of an exec: the verb's
// flags are plain fields of sandbox.ExecConfig, which the runtime's Exec
// checks before it starts anything.
var execFlagChecks = []string{
	"(*glassbox/sandbox.ExecConfig).Validate", // -e, -w, -d with -i or -t, COMMAND
	"glassbox/sandbox.checkEnv",               // -e
}

var execWays = map[string][]string{"exec": {"glassbox/cmd/glassbox.newExecCmd"}}

// TestEachExecFlagIsCheckedOnce: the same for glassbox exec.
func TestEachExecFlagIsCheckedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the module")
	}
	checkedOnce(t, loadCallGraph(t), execFlagChecks, execWays, "", "cmd/glassbox/exec.go")
}

// checkedOnce fails t unless each of checks is called from one place at
// most on each way (its entry points, plus every function of seedFile),
// from one place on one way at least, and never by a function of verbFile.
func checkedOnce(t *testing.T, g *callGraph, checks []string, ways map[string][]string, seedFile, verbFile string) {
	t.Helper()
	used := map[string]bool{}
	for way, entries := range ways {
		reached := map[string]bool{}
		var queue []string
		for fn, d := range g.decls {
			if (seedFile != "" && d.file == seedFile) || slices.Contains(entries, fn) {
				reached[fn] = true
				queue = append(queue, fn)
			}
		}
		if want := len(entries); len(queue) < want || (seedFile != "" && len(queue) == want) {
			t.Fatalf("%s: found only %v of the entry points %v", way, queue, entries)
		}
		for len(queue) > 0 {
			fn := queue[0]
			queue = queue[1:]
			for _, callee := range g.decls[fn].calls {
				if _, ours := g.decls[callee]; ours && !reached[callee] {
					reached[callee] = true
					queue = append(queue, callee)
				}
			}
		}
		for _, piece := range checks {
			sites := g.callers(piece, reached)
			if len(sites) > 1 {
				t.Errorf("%s: %s is called from %d places, want 1: %v", way, piece, len(sites), sites)
			}
			used[piece] = used[piece] || len(sites) == 1
		}
	}
	for _, piece := range checks {
		if !used[piece] {
			t.Errorf("%s is called on no way", piece)
		}
	}
	verb := map[string]bool{}
	for fn, d := range g.decls {
		verb[fn] = d.file == verbFile
	}
	for _, piece := range checks {
		if sites := g.callers(piece, verb); len(sites) > 0 {
			t.Errorf("the verb checks a flag itself: %s calls %s", sites, piece)
		}
	}
}

// callers are the functions among those in set that call fn, once per call site.
func (g *callGraph) callers(fn string, set map[string]bool) []string {
	var sites []string
	for caller, in := range set {
		if !in {
			continue
		}
		for _, callee := range g.decls[caller].calls {
			if callee == fn {
				sites = append(sites, caller)
			}
		}
	}
	slices.Sort(sites)
	return sites
}

type funcDecl struct {
	file  string   // relative to the module's root
	calls []string // the static callees' full names, once per call site
}

type callGraph struct {
	decls map[string]*funcDecl // by types.Func.FullName
}

// loadCallGraph type-checks the module's packages from source (their
// imports from the compiler's export data, which `go list -export` builds)
// and records, for each function and method, the functions it calls.
// Calls inside function literals count for the function around them.
func loadCallGraph(t *testing.T) *callGraph {
	t.Helper()
	root := moduleRoot(t)
	cmd := exec.Command("go", "list", "-export", "-deps", "-json=ImportPath,Dir,GoFiles,CgoFiles,Export,Standard", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	type pkg struct {
		ImportPath, Dir, Export string
		GoFiles, CgoFiles       []string
		Standard                bool
	}
	exports := map[string]string{}
	var ours []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
		if strings.HasPrefix(p.ImportPath, "glassbox/") && len(p.CgoFiles) == 0 && !strings.Contains(p.ImportPath, "/.ci/") {
			ours = append(ours, p)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})
	g := &callGraph{decls: map[string]*funcDecl{}}
	for _, p := range ours {
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-check %s: %v", p.ImportPath, err)
		}
		for _, f := range files {
			rel, _ := filepath.Rel(root, fset.File(f.Pos()).Name())
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				obj, ok := info.Defs[fd.Name].(*types.Func)
				if !ok {
					continue
				}
				decl := &funcDecl{file: filepath.ToSlash(rel)}
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					var id *ast.Ident
					switch fun := ast.Unparen(call.Fun).(type) {
					case *ast.Ident:
						id = fun
					case *ast.SelectorExpr:
						id = fun.Sel
					case *ast.IndexExpr: // a generic function
						if sel, ok := fun.X.(*ast.SelectorExpr); ok {
							id = sel.Sel
						} else if x, ok := fun.X.(*ast.Ident); ok {
							id = x
						}
					}
					if id == nil {
						return true
					}
					if callee, ok := info.Uses[id].(*types.Func); ok {
						decl.calls = append(decl.calls, callee.Origin().FullName())
					}
					return true
				})
				g.decls[obj.FullName()] = decl
			}
		}
	}
	return g
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}
