package schema

import (
	"fmt"
	"reflect"
)

// Diff lists the differences between two events, one readable line per
// differing field, for test failures; it returns nil when the events are
// equal. Original is ignored. It lists first the ECS fields by name (as Get
// gives them), then Received and event.duration, which Get does not name,
// then the original fields position by position. When none of those differ
// but the events still do (an ID, a time zone, a list that joins to the same
// string), one last line prints both events whole.
func Diff(a, b *Event) []string {
	var d []string
	for _, name := range ecsNames {
		va, _ := a.Get(name)
		vb, _ := b.Get(name)
		if va != vb {
			d = append(d, fmt.Sprintf("%s: %q != %q", name, va, vb))
		}
	}
	if !a.Received.Equal(b.Received) {
		d = append(d, fmt.Sprintf("received: %v != %v", a.Received, b.Received))
	}
	if a.Event.Duration != b.Event.Duration {
		d = append(d, fmt.Sprintf("event.duration: %d != %d", a.Event.Duration, b.Event.Duration))
	}
	for i := range max(len(a.Fields), len(b.Fields)) {
		var fa, fb Field
		if i < len(a.Fields) {
			fa = a.Fields[i]
		}
		if i < len(b.Fields) {
			fb = b.Fields[i]
		}
		if fa != fb {
			d = append(d, fmt.Sprintf("fields[%d]: %s=%q != %s=%q", i, fa.Key, fa.Value, fb.Key, fb.Value))
		}
	}
	if len(d) > 0 {
		return d
	}
	ca, cb := *a, *b
	ca.Original, cb.Original = "", ""
	if !reflect.DeepEqual(ca, cb) {
		d = append(d, fmt.Sprintf("events differ: %+v != %+v", ca, cb))
	}
	return d
}
