package inspect

import "testing"

// A process whose parent is outside the sandbox entered it with setns;
// the init's parent is outside too, but it is the sandbox's PID 1.
func TestMarkJoined(t *testing.T) {
	ps := []Process{
		{HostPID: 100, NSpid: []int{100, 1}, SandboxPID: 1, PPID: 50},    // the init, started by glassbox
		{HostPID: 101, NSpid: []int{101, 2}, SandboxPID: 2, PPID: 100},   // the workload
		{HostPID: 140, NSpid: []int{140, 9}, SandboxPID: 9, PPID: 139},   // exec'd: its parent sandbox-exec is outside
		{HostPID: 141, NSpid: []int{141, 10}, SandboxPID: 10, PPID: 140}, // forked by the exec'd shell
		{HostPID: 150, NSpid: []int{150, 11}, SandboxPID: 11, PPID: 100}, // exec -d, adopted by the init
	}
	markJoined(ps)
	for i, want := range []bool{false, false, true, false, false} {
		if ps[i].Joined != want {
			t.Errorf("pid %d (PPID %d): joined %v, want %v", ps[i].HostPID, ps[i].PPID, ps[i].Joined, want)
		}
	}
	one := []Process{{HostPID: 7, NSpid: []int{7}, PPID: 1}}
	if markJoined(one); one[0].Joined {
		t.Error("a lone host process counted as joined")
	}
}
