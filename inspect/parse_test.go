package inspect

import (
	"reflect"
	"testing"

	"github.com/prometheus/procfs"
)

func TestLimitValue(t *testing.T) {
	tests := []struct {
		in        string
		n         int64
		unlimited bool
		ok        bool
	}{
		{"268435456\n", 268435456, false, true},
		{"max\n", 0, true, true},
		{"-1\n", 0, true, true},                  // v1 cfs_quota_us
		{"9223372036854771712\n", 0, true, true}, // v1 memory.limit_in_bytes, no limit
		{"0\n", 0, false, true},
		{"", 0, false, false},
		{"12k", 0, false, false},
	}
	for _, tt := range tests {
		n, unl, ok := limitValue([]byte(tt.in))
		if n != tt.n || unl != tt.unlimited || ok != tt.ok {
			t.Errorf("limitValue(%q) = %d, %v, %v; want %d, %v, %v", tt.in, n, unl, ok, tt.n, tt.unlimited, tt.ok)
		}
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want procStatus
		err  bool
	}{
		{
			name: "nested pid namespace",
			in:   "Name:\tcalculator\nState:\tS (sleeping)\nPPid:\t4242\nUid:\t1000\t1001\t1000\t1000\nGid:\t50\t51\t50\t50\nNSpid:\t4251\t2\nVmRSS:\t   12544 kB\nThreads:\t7\nCapEff:\t00000000a80425fb\n",
			want: procStatus{Name: "calculator", State: "sleeping", PPID: 4242, UID: 1001, GID: 51, Threads: 7, RSSKiB: 12544, NSpid: []int{4251, 2}, CapEff: 0xa80425fb, hasCaps: true},
		},
		{
			name: "seccomp filter and no_new_privs",
			in:   "Name:\tcalculator\nNSpid:\t4251\t2\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n",
			want: procStatus{Name: "calculator", NSpid: []int{4251, 2}, NoNewPrivs: true, Seccomp: 2, SeccompFilters: 1},
		},
		{
			name: "two levels of nesting",
			in:   "Name:\tsh\nState:\tR (running)\nPPid:\t0\nNSpid:\t900\t17\t1\n",
			want: procStatus{Name: "sh", State: "running", NSpid: []int{900, 17, 1}},
		},
		{
			name: "kernel thread has no VmRSS",
			in:   "Name:\tkworker/0:1\nState:\tI (idle)\nPPid:\t2\nNSpid:\t31\nThreads:\t1\n",
			want: procStatus{Name: "kworker/0:1", State: "idle", PPID: 2, Threads: 1, NSpid: []int{31}},
		},
		{name: "not a status file", in: "hello\n", err: true},
		{name: "bad caps", in: "Name:\tx\nNSpid:\t1\nCapEff:\tzz\n", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tt.in), "", nil)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if !tt.err && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseStatusReusesUnchanged(t *testing.T) {
	in := []byte("Name:\tcalculator\nNSpid:\t4251\t2\n")
	first, _ := parseStatus(in, "", nil)
	second, _ := parseStatus(in, first.Name, first.NSpid)
	if &second.NSpid[0] != &first.NSpid[0] {
		t.Error("NSpid slice reallocated although unchanged")
	}
	third, _ := parseStatus([]byte("Name:\tcalculator\nNSpid:\t4251\t3\n"), first.Name, first.NSpid)
	if !reflect.DeepEqual(third.NSpid, []int{4251, 3}) || first.NSpid[1] != 2 {
		t.Errorf("changed NSpid: got %v (old %v)", third.NSpid, first.NSpid)
	}
}

// TestStatusAgreesWithProcfs reads the fixture with procfs and with the
// byte parser: both must see the same process.
func TestStatusAgreesWithProcfs(t *testing.T) {
	pfs, err := procfs.NewFS("testdata/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{4242, 4251} {
		p, _ := pfs.Proc(pid)
		ps, err := p.NewStatus()
		if err != nil {
			t.Fatal(err)
		}
		b, err := readWhole("testdata/proc/"+itoa(pid)+"/status", make([]byte, 8192))
		if err != nil {
			t.Fatal(err)
		}
		mine, err := parseStatus(b, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if mine.Name != ps.Name || uint64(mine.RSSKiB)*1024 != ps.VmRSS || mine.CapEff != ps.CapEff || len(mine.NSpid) != len(ps.NSpids) {
			t.Errorf("pid %d: mine %+v, procfs %+v", pid, mine, ps)
		}
		for i := range mine.NSpid {
			if uint64(mine.NSpid[i]) != ps.NSpids[i] {
				t.Errorf("pid %d NSpid: mine %v, procfs %v", pid, mine.NSpid, ps.NSpids)
			}
		}
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		in   string
		want procStat
		err  bool
	}{
		{"4251 (calculator) S 4242 4251 4242 0 -1 4194560 3120 0 0 0 137 21 0 0 20 0 7 0 1605850 1270419456 3136 18446744073709551615 1 1",
			procStat{comm: []byte("calculator"), State: "sleeping", PPID: 4242, CPU: 158, Threads: 7, RSS: 3136}, false},
		// A comm with spaces and parentheses: fields count from the last ')'.
		{"77 (a b) (c)) R 1 77 77 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 9 4096 12 0",
			procStat{comm: []byte("a b) (c)"), State: "running", PPID: 1, CPU: 11, Threads: 1, RSS: 12}, false},
		// Cut before the resident pages (field 24).
		{"4251 (calculator) S 4242 4251 4242 0 -1 4194560 3120 0 0 0 137 21 0 0 20 0 7 0", procStat{}, true},
		{"77 (x) R 1 2", procStat{}, true},
		{"no paren", procStat{}, true},
		{"77 (x) R notanumber 77 77", procStat{}, true},
	}
	for _, tt := range tests {
		got, err := parseStat([]byte(tt.in))
		if (err != nil) != tt.err {
			t.Errorf("parseStat(%q): error %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if tt.err {
			continue
		}
		if string(got.comm) != string(tt.want.comm) || got.State != tt.want.State || got.PPID != tt.want.PPID ||
			got.CPU != tt.want.CPU || got.Threads != tt.want.Threads || got.RSS != tt.want.RSS {
			t.Errorf("parseStat(%q) = %+v; want %+v", tt.in, got, tt.want)
		}
	}
}

func TestCapNames(t *testing.T) {
	tests := []struct {
		mask uint64
		want []string
	}{
		{0, nil},
		{1 << 21, []string{"CAP_SYS_ADMIN"}},
		// docker's (and glassbox's) default set
		{0xa80425fb, []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
			"CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD",
			"CAP_AUDIT_WRITE", "CAP_SETFCAP"}},
		{1<<40 | 1<<45, []string{"CAP_CHECKPOINT_RESTORE", "CAP_45"}},
	}
	for _, tt := range tests {
		if got := CapNames(tt.mask); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("CapNames(%#x) = %v, want %v", tt.mask, got, tt.want)
		}
	}
	if n := len(CapNames(0x000001ffffffffff)); n != 41 {
		t.Errorf("full set decodes to %d names, want 41", n)
	}
}

func TestParseNSLink(t *testing.T) {
	tests := []struct {
		in   string
		kind string
		ino  uint64
		err  bool
	}{
		{"pid:[4026531836]", "pid", 4026531836, false},
		{"time:[4026531834]", "time", 4026531834, false},
		{"net:[]", "", 0, true},
		{"pid:4026531836", "", 0, true},
	}
	for _, tt := range tests {
		k, ino, err := parseNSLink([]byte(tt.in))
		if k != tt.kind || ino != tt.ino || (err != nil) != tt.err {
			t.Errorf("parseNSLink(%q) = %q, %d, %v", tt.in, k, ino, err)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	v1 := "12:pids:/glassbox/a\n4:memory:/glassbox/a\n3:cpu,cpuacct:/glassbox/a\n1:name=systemd:/user.slice\n0::/\n"
	lines, err := parseProcCgroup([]byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	fs := FS{CgroupRoot: "/sys/fs/cgroup", Mode: ModeHybrid}
	path, unified, dirs := cgroupDirs(fs, lines)
	want := map[string]string{
		"pids": "/sys/fs/cgroup/pids/glassbox/a", "memory": "/sys/fs/cgroup/memory/glassbox/a",
		"cpu": "/sys/fs/cgroup/cpu,cpuacct/glassbox/a", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/glassbox/a",
		"unified": "/sys/fs/cgroup/unified",
	}
	if path != "/glassbox/a" || unified != "/" || !reflect.DeepEqual(dirs, want) {
		t.Errorf("hybrid: path %q unified %q dirs %v", path, unified, dirs)
	}

	lines, err = parseProcCgroup([]byte("0::/kubepods/burstable/pod1/abc\n"))
	if err != nil {
		t.Fatal(err)
	}
	path, _, dirs = cgroupDirs(FS{CgroupRoot: "/sys/fs/cgroup", Mode: ModeV2}, lines)
	if path != "/kubepods/burstable/pod1/abc" || dirs["unified"] != "/sys/fs/cgroup/kubepods/burstable/pod1/abc" || len(dirs) != 1 {
		t.Errorf("v2: path %q dirs %v", path, dirs)
	}
	if _, err := parseProcCgroup([]byte("garbage\n")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestParseMemoryStat(t *testing.T) {
	v1 := "cache 100\nrss 10\nshmem 5\ntotal_cache 300\ntotal_rss 30\ntotal_shmem 15\n"
	var m Memory
	parseMemoryStat(ModeV1, []byte(v1), "memory.stat", &m)
	if m.Anon.Value != 30 || m.File.Value != 300 || m.Shmem.Value != 15 || !m.Anon.Valid {
		t.Errorf("v1 totals: %+v", m)
	}
	m = Memory{}
	parseMemoryStat(ModeV1, []byte("cache 100\nrss 10\nshmem 5\n"), "memory.stat", &m)
	if m.Anon.Value != 10 || m.File.Value != 100 || m.Shmem.Value != 5 {
		t.Errorf("v1 without totals: %+v", m)
	}
	m = Memory{}
	parseMemoryStat(ModeV2, []byte("anon 7\nfile 8\nkernel 9\nkernel_stack 1\nshmem 2\n"), "memory.stat", &m)
	if m.Anon.Value != 7 || m.File.Value != 8 || m.Kernel.Value != 9 || m.Shmem.Value != 2 {
		t.Errorf("v2: %+v", m)
	}
	m = Memory{}
	// before 5.18 there is no "kernel" line: its parts are summed
	parseMemoryStat(ModeV2, []byte("anon 7\nkernel_stack 1\nslab 2\nsock 3\npercpu 4\npagetables 5\n"), "memory.stat", &m)
	if m.Kernel.Value != 15 || !m.Kernel.Valid {
		t.Errorf("v2 kernel parts: %+v", m.Kernel)
	}
}

func TestParseCPU(t *testing.T) {
	var p CPU
	parseCPUStat(ModeV2, []byte("usage_usec 1500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 250\n"), "cpu.stat", &p)
	if p.UsageNS.Value != 1500000 || p.Periods.Value != 10 || p.Throttled.Value != 4 || p.ThrottledNS.Value != 250000 {
		t.Errorf("v2 cpu.stat: %+v", p)
	}
	p = CPU{}
	parseCPUStat(ModeV1, []byte("nr_periods 34\nnr_throttled 31\nthrottled_time 1707979700\n"), "cpu.stat", &p)
	if p.ThrottledNS.Value != 1707979700 || p.UsageNS.Valid {
		t.Errorf("v1 cpu.stat: %+v", p)
	}
	tests := []struct {
		in      string
		quota   Value
		period  int64
		wantErr bool
	}{
		{"50000 100000\n", Value{50000, "cpu.max", true}, 100000, false},
		{"max 100000\n", Value{0, "cpu.max", false}, 100000, false},
		{"max\n", Value{}, 0, true},
	}
	for _, tt := range tests {
		p = CPU{}
		err := parseCPUMax([]byte(tt.in), "cpu.max", &p)
		if (err != nil) != tt.wantErr || p.QuotaUS != tt.quota || p.PeriodUS.Value != tt.period {
			t.Errorf("cpu.max %q: %+v %+v %v", tt.in, p.QuotaUS, p.PeriodUS, err)
		}
	}
}

func TestParsePSIAndFrozen(t *testing.T) {
	if v, ok := parsePSISome10([]byte("some avg10=12.55 avg60=8.02 avg300=2.41 total=31485512\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")); !ok || v != 12.55 {
		t.Errorf("psi = %v %v", v, ok)
	}
	if _, ok := parsePSISome10([]byte("full avg10=1.00\n")); ok {
		t.Error("full line taken for some")
	}
	for _, tt := range []struct {
		mode, in string
		want     bool
	}{
		{ModeV2, "populated 1\nfrozen 1\n", true},
		{ModeV2, "populated 1\nfrozen 0\n", false},
		{ModeV1, "FROZEN\n", true},
		{ModeV1, "FREEZING\n", false},
		{ModeV1, "THAWED\n", false},
	} {
		if got := parseFrozen(tt.mode, []byte(tt.in)); got != tt.want {
			t.Errorf("parseFrozen(%s, %q) = %v", tt.mode, tt.in, got)
		}
	}
}

func TestParseNetDev(t *testing.T) {
	in := "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
		"    lo:    4368      48    0    0    0     0          0         0     4368      48    0    0    0     0       0          0\n" +
		"  eth0: 1835762    1206    0    0    0     0          0         0   201733     958    0    0    0     0       0          0\n"
	got, err := parseNetDev([]byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []devCounters{{"lo", 4368, 4368}, {"eth0", 1835762, 201733}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if _, err := parseNetDev([]byte("h\nh\n  eth0: 1 2 3\n"), nil); err == nil {
		t.Error("short line accepted")
	}
}
