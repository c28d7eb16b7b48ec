// Package intel ships the small threat-intel feed the demo loads: a STIX
// 2.1 bundle naming the simulated attacker's command-and-control server and
// domain, two internet scanners, and one expired indicator that must never
// alert. All addresses are from the documentation ranges.
package intel

import (
	"bytes"
	_ "embed"
)

//go:embed demo-feed.json
var demoFeed []byte

// DemoFeed returns the demo's STIX 2.1 bundle.
func DemoFeed() []byte { return bytes.Clone(demoFeed) }
