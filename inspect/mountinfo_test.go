package inspect

import (
	"reflect"
	"testing"
)

func TestUnescapeOctal(t *testing.T) {
	tests := map[string]string{
		`/plain`:            "/plain",
		`/a\040b`:           "/a b",
		`/tab\011x`:         "/tab\tx",
		`/nl\012x`:          "/nl\nx",
		`/back\134slash`:    `/back\slash`,
		`/comma\054x`:       "/comma,x",
		`/not\09escape`:     `/not\09escape`,
		`/trailing\04`:      `/trailing\04`,
		`\040\040`:          "  ",
		`/l2\134\054co`:     `/l2\,co`,
		`/mix\134:col\040x`: `/mix\:col x`,
	}
	for in, want := range tests {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

// The overlay line below was captured on this project's kernel (6.18) after
//
//	mount -t overlay overlay -o 'lowerdir=/tmp/gbx-ov/l1 sp:/tmp/gbx-ov/l2\,co:/tmp/gbx-ov/l3\:col,upperdir=…,workdir=…' mnt
//
// i.e. layer dirs named "l1 sp", "l2,co" and "l3:col".
const capturedOverlay = `45 26 0:38 / /tmp/gbx-ov/mnt rw,relatime - overlay overlay rw,lowerdir=/tmp/gbx-ov/l1\040sp:/tmp/gbx-ov/l2\134\054co:/tmp/gbx-ov/l3\134:col,upperdir=/tmp/gbx-ov/up,workdir=/tmp/gbx-ov/wk,uuid=on`

func TestParseOverlay(t *testing.T) {
	tests := []struct {
		name string
		line string
		want overlayOptions
	}{
		{
			name: "escaped space, comma and colon (captured)",
			line: capturedOverlay,
			want: overlayOptions{
				Lowers:   []string{"/tmp/gbx-ov/l1 sp", "/tmp/gbx-ov/l2,co", "/tmp/gbx-ov/l3:col"},
				DataOnly: []bool{false, false, false},
				Upper:    "/tmp/gbx-ov/up", Work: "/tmp/gbx-ov/wk",
			},
		},
		{
			name: "docker overlay2 with short links",
			line: `1402 1301 0:212 / / rw,relatime master:520 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,upperdir=/var/lib/docker/overlay2/f00/diff,workdir=/var/lib/docker/overlay2/f00/work,nouserxattr`,
			want: overlayOptions{
				Lowers:   []string{"/var/lib/docker/overlay2/l/ABC", "/var/lib/docker/overlay2/l/DEF"},
				DataOnly: []bool{false, false},
				Upper:    "/var/lib/docker/overlay2/f00/diff", Work: "/var/lib/docker/overlay2/f00/work",
			},
		},
		{
			name: "data-only lowers after ::",
			line: `50 26 0:40 / /m ro - overlay overlay ro,lowerdir=/meta::/data1::/data2,metacopy=on,redirect_dir=follow`,
			want: overlayOptions{
				Lowers:   []string{"/meta", "/data1", "/data2"},
				DataOnly: []bool{false, true, true},
			},
		},
		{
			name: "single read-only lower, upper with escaped space",
			line: `51 26 0:41 / /m rw - overlay overlay rw,lowerdir=/a,upperdir=/u\040p,workdir=/w`,
			want: overlayOptions{Lowers: []string{"/a"}, DataOnly: []bool{false}, Upper: "/u p", Work: "/w"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseMountLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if m.FSType != "overlay" {
				t.Fatalf("fstype %q", m.FSType)
			}
			if got := parseOverlay(m.SuperOptions); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseMountLine(t *testing.T) {
	m, err := parseMountLine(`625 612 254:0 /var/lib/shared\040data /mnt/shared\040data ro,relatime shared:1 master:2 - ext4 /dev/vda rw`)
	if err != nil {
		t.Fatal(err)
	}
	want := mountLine{Dev: "254:0", Root: "/var/lib/shared data", MountPoint: "/mnt/shared data", Options: []string{"ro", "relatime"},
		FSType: "ext4", Source: "/dev/vda", SuperOptions: []string{"rw"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v", m)
	}
	for _, bad := range []string{"", "1 2 3 4 5 6", "1 2 - ext4"} {
		if _, err := parseMountLine(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	mounts, errs := parseMountinfo([]byte("garbage\n" + capturedOverlay + "\n"))
	if len(mounts) != 1 || len(errs) != 1 {
		t.Errorf("bad line not skipped: %d mounts, errors %v", len(mounts), errs)
	}
}

func TestMasked(t *testing.T) {
	tests := []struct {
		line   string
		masked bool
	}{
		{`619 612 0:5 /null /proc/kcore rw,nosuid - devtmpfs udev rw,size=4015240k`, true},
		{`621 612 0:97 / /proc/acpi ro,relatime - tmpfs tmpfs ro`, true},
		{`618 612 0:96 / /tmp rw,nosuid - tmpfs tmpfs rw`, false},
		{`623 613 0:91 /sys /proc/sys ro,nosuid - proc proc rw`, false},
	}
	for _, tt := range tests {
		m, err := parseMountLine(tt.line)
		if err != nil {
			t.Fatal(err)
		}
		if isMasked(m) != tt.masked {
			t.Errorf("%s: masked=%v, want %v", m.MountPoint, !tt.masked, tt.masked)
		}
	}
}

func TestHostPath(t *testing.T) {
	mounts := []mountLine{
		{Dev: "254:0", Root: "/", MountPoint: "/"},
		{Dev: "0:30", Root: "/", MountPoint: "/tmp"},
		{Dev: "0:30", Root: "/shared", MountPoint: "/srv/shared"},
	}
	for _, c := range []struct{ dev, root, want string }{
		{"254:0", "/var/lib/bundle/rootfs", "/var/lib/bundle/rootfs"},
		{"0:30", "/glassbox-test-x/rootfs", "/tmp/glassbox-test-x/rootfs"},
		{"0:30", "/shared/rootfs", "/srv/shared/rootfs"}, // the deepest mount of it
		{"0:30", "/sharedx/rootfs", "/tmp/sharedx/rootfs"},
		{"0:99", "/x", ""},
	} {
		if got := hostPath(mounts, c.dev, c.root); got != c.want {
			t.Errorf("hostPath(%s, %s) = %q, want %q", c.dev, c.root, got, c.want)
		}
	}
}
