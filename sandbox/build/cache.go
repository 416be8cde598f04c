package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

// The build cache, below Roots.Lib/build-cache (image.BuildCacheDir; when a
// layer goes, the image store removes the entries that name it):
//
//	<key>.json            one step's result: its layer (or none), when it was made
//	children/<key>.json   the steps built on a parent key: instruction, key,
//	                      source digests — what a miss is explained from
type cache struct{ dir string }

func newCache(roots state.Roots) *cache { return &cache{dir: image.BuildCacheDir(roots)} }

// entry is a step's cached result.
type entry struct {
	Key     string        `json:"key"`
	Layer   string        `json:"layer,omitempty"` // diffID; "" for config-only steps
	Created time.Time     `json:"created"`
	Took    time.Duration `json:"took"`
}

// child is a step built on a parent key, kept to explain later misses.
type child struct {
	Text  string       `json:"text"`
	Key   string       `json:"key"`
	Files []fileDigest `json:"files,omitempty"`
	Env   []string     `json:"env,omitempty"`
}

// maxChildren bounds the record of steps built on one parent.
const maxChildren = 16

// key is a step's cache key: its parent's key, the instruction after
// substitution, the configuration in effect (and for RUN the build args),
// and for COPY/ADD the sources' digests (path, mode, owner, content).
func key(parent string, st *step) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", parent, st.text, st.keyInputs)
	for _, f := range st.files {
		fmt.Fprintf(h, "%s %s\n", f.Path, f.Digest)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func (c *cache) file(key string) string {
	return filepath.Join(c.dir, strings.TrimPrefix(key, "sha256:")+".json")
}

func (c *cache) childrenFile(parent string) string {
	if parent == "" {
		parent = "root"
	}
	return filepath.Join(c.dir, "children", strings.TrimPrefix(parent, "sha256:")+".json")
}

func (c *cache) get(key string) (*entry, bool) {
	data, err := os.ReadFile(c.file(key))
	if err != nil {
		return nil, false
	}
	var e entry
	if json.Unmarshal(data, &e) != nil || e.Key != key {
		return nil, false
	}
	return &e, true
}

func (c *cache) put(parent string, st *step, e *entry) error {
	if err := os.MkdirAll(filepath.Join(c.dir, "children"), 0o755); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	data, _ := json.Marshal(e)
	if err := writeFile(c.file(e.Key), data); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	kids := c.children(parent)
	kids = slices.DeleteFunc(kids, func(k child) bool { return k.Text == st.text })
	kids = append([]child{{Text: st.text, Key: e.Key, Files: st.files, Env: st.runEnv}}, kids...)
	if len(kids) > maxChildren {
		kids = kids[:maxChildren]
	}
	data, _ = json.Marshal(kids)
	if err := writeFile(c.childrenFile(parent), data); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	return nil
}

func (c *cache) children(parent string) []child {
	data, err := os.ReadFile(c.childrenFile(parent))
	if err != nil {
		return nil
	}
	var kids []child
	json.Unmarshal(data, &kids)
	return kids
}

// explain says why a step whose parent was found in the cache missed.
func (c *cache) explain(parent string, st *step) string {
	kids := c.children(parent)
	for _, k := range kids {
		if k.Text != st.text {
			continue
		}
		if changed := filesChanged(k.Files, st.files); changed != "" {
			return changed
		}
		if !slices.Equal(k.Env, st.runEnv) {
			return "the environment changed (build args or ENV): " + envChange(k.Env, st.runEnv)
		}
		return "the cached result is gone (removed with rmi or image prune)"
	}
	for _, k := range kids {
		if sameCmd(k.Text, st.text) {
			return fmt.Sprintf("instruction changed (was: %s)", k.Text)
		}
	}
	if len(kids) > 0 {
		return fmt.Sprintf("instruction changed (was: %s)", kids[0].Text)
	}
	return "not built before"
}

func sameCmd(a, b string) bool {
	x, _, _ := strings.Cut(a, " ")
	y, _, _ := strings.Cut(b, " ")
	return x == y
}

// filesChanged names the sources that differ, e.g.
// "app.py changed (sha256:ab12… → sha256:cd34…)".
func filesChanged(old, now []fileDigest) string {
	was := map[string]string{}
	for _, f := range old {
		was[f.Path] = f.Digest
	}
	var parts []string
	seen := map[string]bool{}
	for _, f := range now {
		seen[f.Path] = true
		switch d, ok := was[f.Path]; {
		case !ok:
			parts = append(parts, f.Path+" is new")
		case d != f.Digest:
			parts = append(parts, fmt.Sprintf("%s changed (%s → %s)", f.Path, short(d), short(f.Digest)))
		}
	}
	for _, f := range old {
		if !seen[f.Path] {
			parts = append(parts, f.Path+" was removed")
		}
	}
	if len(parts) > 3 {
		parts = append(parts[:3], fmt.Sprintf("and %d more", len(parts)-3))
	}
	return strings.Join(parts, ", ")
}

func envChange(old, now []string) string {
	var parts []string
	for _, kv := range now {
		if !slices.Contains(old, kv) {
			parts = append(parts, kv)
		}
	}
	if len(parts) == 0 {
		return "variables removed"
	}
	return strings.Join(parts, " ")
}

// short is "sha256:" and the first 4 hex digits, then "…".
func short(d string) string {
	h := strings.TrimPrefix(d, "sha256:")
	if len(h) > 4 {
		h = h[:4] + "…"
	}
	return "sha256:" + h
}

func writeFile(p string, data []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
