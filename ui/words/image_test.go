package words

import (
	"io/fs"
	"testing"

	"glassbox/inspect/union"
)

func TestMode(t *testing.T) {
	for _, tc := range []struct {
		e    union.Entry
		want string
	}{
		{union.Entry{Kind: union.Dir, Mode: fs.ModeDir | 0o755}, "drwxr-xr-x"},
		{union.Entry{Kind: union.Symlink, Mode: fs.ModeSymlink | 0o777}, "lrwxrwxrwx"},
		{union.Entry{Kind: union.File, Mode: fs.ModeSetuid | 0o755}, "-rwsr-xr-x"},
		{union.Entry{Kind: union.Dir, Mode: fs.ModeDir | fs.ModeSticky | 0o777}, "drwxrwxrwt"},
		{union.Entry{Kind: union.File, Mode: fs.ModeSetgid | 0o644}, "-rw-r-Sr--"},
		{union.Entry{Kind: union.Whiteout, Mode: fs.ModeCharDevice | fs.ModeDevice}, "c---------"},
	} {
		if got := Mode(&tc.e); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.e.Mode, got, tc.want)
		}
	}
}
