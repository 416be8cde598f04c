package inspect

import "time"

// SetSlowRefresh changes how often the slow figures are re-read, for a
// benchmark of the worst refresh; it returns the undo.
func SetSlowRefresh(d time.Duration) func() {
	old := slowRefresh
	slowRefresh = d
	return func() { slowRefresh = old }
}
