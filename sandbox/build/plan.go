package build

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"glassbox/sandbox/build/dockerfile"
	"glassbox/sandbox/image"
)

// stepKind is what executing a step does.
type stepKind int

const (
	kindFrom   stepKind = iota
	kindConfig          // changes the configuration only
	kindRun
	kindCopy
	kindMkdir // WORKDIR of a directory the image lacks
)

// step is one instruction, planned: substituted, checked, its inputs known.
type step struct {
	n    int
	line int
	kind stepKind
	text string // the instruction after substitution: shown, recorded, keyed
	// config is the configuration in effect after the step.
	config image.Config
	// keyInputs are what besides the parent's key and text the key
	// covers: the configuration in effect (and for RUN the build args).
	keyInputs string
	from      *image.Image
	argv      []string // RUN
	runEnv    []string // RUN: the image's env plus the build args
	copies    []copyOp // COPY/ADD
	files     []fileDigest
	dir       string // WORKDIR to create
}

// copyOp is one source of a COPY/ADD going to its destination.
type copyOp struct {
	src    source
	target string // absolute path inside the image
	unpack bool   // ADD of a local tar archive: unpack into target
	chown  *owner
}

type owner struct{ uid, gid int }

type planner struct {
	store *image.Store
	ctx   *buildContext
	df    *dockerfile.File
	opts  *Options

	args    map[string]string // ARG values in effect
	used    map[string]bool   // build args some ARG declared
	globals map[string]string // ARGs declared before FROM
}

func (p *planner) errAt(in *dockerfile.Instruction, format string, a ...any) error {
	return &dockerfile.Error{File: p.df.Name, Line: in.Line, Msg: in.Cmd + ": " + fmt.Sprintf(format, a...)}
}

// lookup resolves a variable for substitution: ENV first, then ARG.
func (p *planner) lookup(c *image.Config) dockerfile.Lookup {
	return func(name string) (string, bool) {
		for i := len(c.Env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(c.Env[i], "="); ok && k == name {
				return v, true
			}
		}
		v, ok := p.args[name]
		return v, ok
	}
}

func (p *planner) plan() ([]*step, error) {
	p.args, p.used, p.globals = map[string]string{}, map[string]bool{}, map[string]string{}
	var steps []*step
	var cfg image.Config
	var layers []string // what the image's layers hold is checked through from.Layers + planned mkdirs
	var from *image.Image
	esc := p.df.Escape
	for i, in := range p.df.Instructions {
		st := &step{n: i + 1, line: in.Line, kind: kindConfig}
		vars := p.lookup(&cfg)
		var err error
		switch in.Cmd {
		case "ARG":
			err = p.arg(in, st, from == nil)
		case "FROM":
			from, err = p.from(in, st)
			if err == nil {
				cfg = cloneConfig(from.Config)
				p.args = map[string]string{} // ARGs before FROM must be declared again to be used after it
			}
		case "ENV":
			var kvs [][2]string
			if kvs, err = dockerfile.KeyValues(in.Args, true, vars, esc); err == nil {
				var parts []string
				for _, kv := range kvs {
					cfg.Env = setEnv(cfg.Env, kv[0], kv[1])
					parts = append(parts, kv[0]+"="+kv[1])
				}
				st.text = "ENV " + strings.Join(parts, " ")
			}
		case "LABEL":
			var kvs [][2]string
			if kvs, err = dockerfile.KeyValues(in.Args, false, vars, esc); err == nil {
				var parts []string
				if cfg.Labels == nil {
					cfg.Labels = map[string]string{}
				}
				for _, kv := range kvs {
					cfg.Labels[kv[0]] = kv[1]
					parts = append(parts, kv[0]+"="+strconv.Quote(kv[1]))
				}
				st.text = "LABEL " + strings.Join(parts, " ")
			}
		case "WORKDIR":
			var dir string
			if dir, err = dockerfile.Word(in.Args, vars, esc); err == nil {
				if !path.IsAbs(dir) {
					dir = path.Join(orRoot(cfg.WorkingDir), dir)
				}
				cfg.WorkingDir = path.Clean(dir)
				st.text = "WORKDIR " + cfg.WorkingDir
				if !p.exists(from, steps, cfg.WorkingDir) {
					st.kind, st.dir = kindMkdir, cfg.WorkingDir
				}
			}
		case "EXPOSE":
			err = p.expose(in, st, &cfg, vars)
		case "USER":
			var u string
			if u, err = dockerfile.Word(in.Args, vars, esc); err == nil {
				cfg.User = u
				st.text = "USER " + u
			}
		case "CMD", "ENTRYPOINT":
			list := in.JSON
			if !in.IsJSON {
				list = []string{"/bin/sh", "-c", in.Args}
			}
			if in.Cmd == "CMD" {
				cfg.Cmd = list
			} else {
				cfg.Entrypoint = list
				cfg.Cmd = nil // docker resets CMD when ENTRYPOINT is set
			}
			data, _ := json.Marshal(list)
			st.text = in.Cmd + " " + string(data)
		case "HEALTHCHECK":
			var hc *image.Healthcheck
			if hc, err = healthcheck(in); err == nil {
				cfg.Healthcheck = hc
				st.text = hc.String()
			}
		case "RUN":
			err = p.run(in, st, &cfg)
		case "COPY", "ADD":
			err = p.copy(in, st, &cfg, from, steps)
		}
		if err != nil {
			if _, ok := err.(*dockerfile.Error); ok {
				return nil, err
			}
			return nil, p.errAt(in, "%v", err)
		}
		if st.text == "" {
			st.text = in.String()
		}
		st.config = cloneConfig(cfg)
		st.keyInputs = configKey(cfg) + st.keyInputs
		steps = append(steps, st)
	}
	_ = layers
	return steps, nil
}

func orRoot(d string) string {
	if d == "" {
		return "/"
	}
	return d
}

func (p *planner) arg(in *dockerfile.Instruction, st *step, global bool) error {
	words, err := dockerfile.Words(in.Args, func(n string) (string, bool) { v, ok := p.args[n]; return v, ok }, p.df.Escape)
	if err != nil {
		return err
	}
	var parts []string
	for _, w := range words {
		name, def, hasDef := strings.Cut(w, "=")
		if name == "" || strings.ContainsAny(name, " $") {
			return fmt.Errorf("bad argument name %q", w)
		}
		val, given := p.opts.BuildArgs[name]
		if given {
			p.used[name] = true
		} else if hasDef {
			val = def
		} else if g, ok := p.globals[name]; ok && !global {
			val, given = g, true
		} else {
			// Declared without a value: unset, as docker has it.
			parts = append(parts, name)
			continue
		}
		p.args[name] = val
		if global {
			p.globals[name] = val
		}
		parts = append(parts, name+"="+val)
	}
	st.text = "ARG " + strings.Join(parts, " ")
	return nil
}

func (p *planner) unusedArgs() []string {
	var out []string
	for k := range p.opts.BuildArgs {
		if !p.used[k] {
			out = append(out, fmt.Sprintf("[warning] the build arg %s was not consumed: no ARG %s in %s", k, k, p.df.Name))
		}
	}
	slices.Sort(out)
	return out
}

func (p *planner) from(in *dockerfile.Instruction, st *step) (*image.Image, error) {
	words, err := dockerfile.Words(in.Args, func(n string) (string, bool) { v, ok := p.globals[n]; return v, ok }, p.df.Escape)
	if err != nil {
		return nil, err
	}
	if len(words) != 1 {
		if len(words) == 3 && strings.EqualFold(words[1], "AS") {
			return nil, fmt.Errorf("FROM … AS %s: multi-stage builds are not supported", words[2])
		}
		return nil, fmt.Errorf("takes one image, got %q", in.Args)
	}
	name := words[0]
	st.kind, st.text = kindFrom, "FROM "+name
	if name == "scratch" {
		im := &image.Image{Name: "scratch"}
		st.from = im
		st.keyInputs = "scratch"
		return im, nil
	}
	im, err := p.store.Get(name)
	if err != nil {
		return nil, err
	}
	st.from = im
	st.keyInputs = im.ID
	return im, nil
}

func (p *planner) expose(in *dockerfile.Instruction, st *step, cfg *image.Config, vars dockerfile.Lookup) error {
	words, err := dockerfile.Words(in.Args, vars, p.df.Escape)
	if err != nil {
		return err
	}
	for _, w := range words {
		port, proto, _ := strings.Cut(w, "/")
		if proto == "" {
			proto = "tcp"
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || (proto != "tcp" && proto != "udp" && proto != "sctp") {
			return fmt.Errorf("invalid port %q: PORT[/tcp|udp|sctp], 1-65535", w)
		}
		p := fmt.Sprintf("%d/%s", n, proto)
		if !slices.Contains(cfg.ExposedPorts, p) {
			cfg.ExposedPorts = append(cfg.ExposedPorts, p)
		}
	}
	slices.Sort(cfg.ExposedPorts)
	st.text = "EXPOSE " + strings.Join(words, " ")
	return nil
}

func (p *planner) run(in *dockerfile.Instruction, st *step, cfg *image.Config) error {
	st.kind = kindRun
	if in.IsJSON {
		if len(in.JSON) == 0 {
			return fmt.Errorf("an empty exec form []")
		}
		st.argv = in.JSON
	} else {
		st.argv = []string{"/bin/sh", "-c", in.Args}
	}
	data, _ := json.Marshal(st.argv)
	st.text = "RUN " + in.Args
	st.runEnv = slices.Clone(cfg.Env)
	var argKeys []string
	for k := range p.args {
		argKeys = append(argKeys, k)
	}
	slices.Sort(argKeys)
	for _, k := range argKeys {
		if !hasEnv(cfg.Env, k) {
			st.runEnv = append(st.runEnv, k+"="+p.args[k])
		}
	}
	st.keyInputs = "\nrun " + string(data) + "\nenv " + strings.Join(st.runEnv, "\x00")
	return nil
}

// exists says whether the image being planned has the path: the base
// image's layers, or a WORKDIR or COPY destination planned before.
func (p *planner) exists(from *image.Image, steps []*step, inside string) bool {
	for _, s := range steps {
		if s.kind == kindMkdir && (s.dir == inside || strings.HasPrefix(s.dir, inside+"/")) {
			return true
		}
		for _, c := range s.copies {
			if strings.HasPrefix(c.target, inside+"/") {
				return true
			}
		}
	}
	if from == nil || inside == "/" {
		return inside == "/"
	}
	fi, ok := image.Lookup(from.TopFirst(), inside)
	return ok && fi.IsDir()
}
