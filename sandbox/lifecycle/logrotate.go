package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
)

// A sandbox's log is kept to MaxFiles files of at most MaxSize bytes each,
// as docker's local log driver does: log.json is written; when it reaches
// MaxSize it becomes log.json.1, the previous log.json.1 becomes
// log.json.2, and so on, and the oldest beyond MaxFiles is deleted. The
// state directory is in /run, which is usually memory: without a cap, a
// busy workload fills it (issue 16: 129 MB in 40 s).

// LogConfig is `run --log-opt`: how much of its output a detached
// sandbox keeps.
type LogConfig struct {
	MaxSize  int64 `json:"max_size,omitempty"`  // bytes per file; 0 means DefaultLogMaxSize
	MaxFiles int   `json:"max_files,omitempty"` // files kept, the one written included; 0 means DefaultLogMaxFiles
}

// Docker's local driver's defaults.
const (
	DefaultLogMaxSize  = 20 << 20
	DefaultLogMaxFiles = 5
)

// minLogSize keeps max-size above a few entries: a smaller file would
// rotate at every write.
const minLogSize = 4 << 10

func (c LogConfig) withDefaults() LogConfig {
	if c.MaxSize == 0 {
		c.MaxSize = DefaultLogMaxSize
	}
	if c.MaxFiles == 0 {
		c.MaxFiles = DefaultLogMaxFiles
	}
	return c
}

// String is the configuration as --log-opt takes it.
func (c LogConfig) String() string {
	c = c.withDefaults()
	return fmt.Sprintf("max-size=%s,max-file=%d", units.BytesSize(float64(c.MaxSize)), c.MaxFiles)
}

// Apply reads one --log-opt value into c: KEY=VALUE, or several joined by
// commas — max-size (a size as docker writes it: 10k, 20m, 1g) and
// max-file (a count ≥ 1). Anything else is refused, and changes nothing.
func (c *LogConfig) Apply(opt string) error {
	next := *c
	for _, kv := range strings.Split(opt, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || v == "" {
			return fmt.Errorf("--log-opt %q: want KEY=VALUE, as in max-size=10m or max-file=3", kv)
		}
		switch k {
		case "max-size":
			n, err := units.RAMInBytes(v)
			if err != nil || n < minLogSize {
				return fmt.Errorf("--log-opt max-size=%s: want a size of at least %s, as in 10m", v, units.BytesSize(minLogSize))
			}
			next.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("--log-opt max-file=%s: want a whole number of files ≥ 1", v)
			}
			next.MaxFiles = n
		default:
			return fmt.Errorf("--log-opt %s: unknown option; glassbox's log takes max-size and max-file", k)
		}
	}
	*c = next
	return nil
}

// rotate starts a new log file once the current one is full; the caller
// holds s.mu. With one file kept, the file is emptied instead. Readers
// that have a file open go on reading it (readLog follows the rename).
func (s *logSink) rotate() {
	if s.cfg.MaxFiles <= 1 {
		if err := s.f.Truncate(0); err == nil {
			s.size = 0
		}
		return
	}
	for i := s.cfg.MaxFiles - 1; i >= 1; i-- {
		from := rotatedLog(s.path, i-1)
		if err := os.Rename(from, rotatedLog(s.path, i)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return // keep writing where we are; the next write tries again
		}
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return // the renamed file stays open: output is not lost
	}
	s.f.Close()
	s.f, s.size = f, 0
	// A smaller max-file than before (a restart with other options)
	// leaves older files: they go too.
	for _, old := range logFiles(s.path) {
		if n, ok := rotation(s.path, old); ok && n >= s.cfg.MaxFiles {
			os.Remove(old)
		}
	}
}

// rotatedLog is the name of rotation n of the log at path: path itself
// for 0, path.n after.
func rotatedLog(path string, n int) string {
	if n == 0 {
		return path
	}
	return path + "." + strconv.Itoa(n)
}

// rotation is the n of a file named by rotatedLog.
func rotation(path, file string) (int, bool) {
	if file == path {
		return 0, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(file, path+"."))
	return n, err == nil && n > 0 && strings.HasPrefix(file, path+".")
}

// logFiles lists the files of the log at path that exist, oldest first.
func logFiles(path string) []string {
	matches, _ := filepath.Glob(path + ".*")
	var files []string
	for _, m := range matches {
		if _, ok := rotation(path, m); ok {
			files = append(files, m)
		}
	}
	sort.Slice(files, func(i, j int) bool {
		a, _ := rotation(path, files[i])
		b, _ := rotation(path, files[j])
		return a > b
	})
	if _, err := os.Stat(path); err == nil {
		files = append(files, path)
	}
	return files
}
