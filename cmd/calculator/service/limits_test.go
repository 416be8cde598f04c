package service

import (
	"os"
	"path/filepath"
	"testing"
)

// tree writes files (path → content) below a fresh directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestReadCgroupView(t *testing.T) {
	const v1Self = "12:pids:/glassbox/abc\n4:memory:/glassbox/abc\n3:cpu,cpuacct:/glassbox/abc\n0::/\n"
	tests := []struct {
		name     string
		files    map[string]string
		self     string
		path     string
		memory   string
		memSrc   string // relative to the tree
		quota    string
		cpus     float64
		quotaSrc string
	}{
		{
			name: "v2 inside a cgroup namespace with its own mount",
			files: map[string]string{
				"cgroup.controllers": "cpu memory pids\n",
				"memory.max":         "268435456\n",
				"cpu.max":            "50000 100000\n",
			},
			self: "0::/\n", path: "/",
			memory: "268435456", memSrc: "memory.max", quota: "50000/100000", cpus: 0.5, quotaSrc: "cpu.max",
		},
		{
			name: "v2 unlimited",
			files: map[string]string{
				"cgroup.controllers": "cpu memory\n",
				"memory.max":         "max\n",
				"cpu.max":            "max 100000\n",
			},
			self: "0::/\n", path: "/", memory: "unlimited", quota: "unlimited",
		},
		{
			name: "v2 from the host: the path in /proc/self/cgroup, tightest on the way up",
			files: map[string]string{
				"cgroup.controllers":               "cpu memory\n",
				"glassbox/memory.max":              "1073741824\n",
				"glassbox/cpu.max":                 "max 100000\n",
				"glassbox/abc/memory.max":          "max\n",
				"glassbox/abc/cpu.max":             "150000 100000\n",
				"glassbox/abc/cgroup.controllers":  "cpu memory\n",
				"glassbox/cgroup.controllers":      "cpu memory\n",
				"glassbox/abc/cgroup.procs":        "1\n",
				"glassbox/abc/memory.current":      "1\n",
				"glassbox/abc/cgroup.subtree_type": "",
			},
			self: "0::/glassbox/abc\n", path: "/glassbox/abc",
			memory: "1073741824", memSrc: "glassbox/memory.max", quota: "150000/100000", cpus: 1.5, quotaSrc: "glassbox/abc/cpu.max",
		},
		{
			name: "v1 inside a cgroup namespace with its own mounts",
			files: map[string]string{
				"memory/memory.limit_in_bytes": "33554432\n",
				"cpu/cpu.cfs_quota_us":         "25000\n",
				"cpu/cpu.cfs_period_us":        "100000\n",
			},
			self: "4:memory:/\n3:cpu,cpuacct:/\n", path: "/",
			memory: "33554432", memSrc: "memory/memory.limit_in_bytes", quota: "25000/100000", cpus: 0.25, quotaSrc: "cpu/cpu.cfs_quota_us",
		},
		{
			name: "v1 unlimited writes the largest page-aligned int64",
			files: map[string]string{
				"memory/memory.limit_in_bytes": "9223372036854771712\n",
				"cpu/cpu.cfs_quota_us":         "-1\n",
				"cpu/cpu.cfs_period_us":        "100000\n",
			},
			self: "4:memory:/\n3:cpu,cpuacct:/\n", path: "/", memory: "unlimited", quota: "unlimited",
		},
		{
			name: "hybrid from the host: v1 controllers, a v2 mount without any",
			files: map[string]string{
				"unified/cgroup.procs":                          "1\n",
				"memory/memory.limit_in_bytes":                  "9223372036854771712\n",
				"memory/glassbox/abc/memory.limit_in_bytes":     "67108864\n",
				"memory/glassbox/memory.limit_in_bytes":         "9223372036854771712\n",
				"cpu/cpu.cfs_quota_us":                          "-1\n",
				"cpu/cpu.cfs_period_us":                         "100000\n",
				"cpu/glassbox/abc/cpu.cfs_quota_us":             "50000\n",
				"cpu/glassbox/abc/cpu.cfs_period_us":            "100000\n",
				"cpu/glassbox/cpu.cfs_quota_us":                 "-1\n",
				"cpu/glassbox/cpu.cfs_period_us":                "100000\n",
				"memory/glassbox/abc/memory.usage_in_bytes":     "1\n",
				"memory/glassbox/abc/memory.max_usage_in_bytes": "1\n",
			},
			self: v1Self, path: "/glassbox/abc",
			memory: "67108864", memSrc: "memory/glassbox/abc/memory.limit_in_bytes", quota: "50000/100000", cpus: 0.5, quotaSrc: "cpu/glassbox/abc/cpu.cfs_quota_us",
		},
		{
			name: "v1 with cpu mounted as cpu,cpuacct and no symlink",
			files: map[string]string{
				"memory/memory.limit_in_bytes":     "9223372036854771712\n",
				"cpu,cpuacct/cpu.cfs_quota_us":     "200000\n",
				"cpu,cpuacct/cpu.cfs_period_us":    "100000\n",
				"cpu,cpuacct/cpuacct.usage":        "1\n",
				"memory/memory.usage_in_bytes":     "1\n",
				"memory/memory.max_usage_in_bytes": "1\n",
			},
			self: "4:memory:/\n3:cpu,cpuacct:/\n", path: "/", memory: "unlimited",
			quota: "200000/100000", cpus: 2, quotaSrc: "cpu,cpuacct/cpu.cfs_quota_us",
		},
		{
			name:  "no cgroupfs at all",
			files: map[string]string{},
			self:  "0::/\n", path: "/", memory: "unlimited", quota: "unlimited",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tree(t, tt.files)
			v := readCgroupView(root, tt.self)
			src := func(rel string) string {
				if rel == "" {
					return ""
				}
				return filepath.Join(root, rel)
			}
			if v.Path != tt.path || v.MemoryLimit != tt.memory || v.MemoryLimitSource != src(tt.memSrc) ||
				v.CPUQuota != tt.quota || v.CPUs != tt.cpus || v.CPUQuotaSource != src(tt.quotaSrc) {
				t.Errorf("got %+v\nwant path %s memory %s from %s, quota %s (%v) from %s", v, tt.path, tt.memory, src(tt.memSrc), tt.quota, tt.cpus, src(tt.quotaSrc))
			}
			if (v.MemoryLimit == "unlimited") != (v.MemoryLimitBytes == 0) {
				t.Errorf("memory %q but %d bytes", v.MemoryLimit, v.MemoryLimitBytes)
			}
		})
	}
}

func TestParseNSLink(t *testing.T) {
	for in, want := range map[string]uint64{"pid:[4026531836]": 4026531836, "net:[1]": 1, "pid:[]": 0, "pid:[12a]": 0, "junk": 0, "pid:[4": 0} {
		if got, ok := parseNSLink(in); got != want || ok != (want != 0) {
			t.Errorf("parseNSLink(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
}
