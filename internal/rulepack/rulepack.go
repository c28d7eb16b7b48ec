// Package rulepack embeds the detection rules Vigil ships with: a curated
// pack of SigmaHQ rules (stable and test status, under the Detection Rule
// License 1.1; see sigmahq/NOTICE.md).
package rulepack

import (
	"embed"
	"io/fs"
)

//go:embed sigmahq
var sigmaHQ embed.FS

// SigmaHQ returns the embedded SigmaHQ rules; the rules are under "rules".
func SigmaHQ() fs.FS {
	sub, err := fs.Sub(sigmaHQ, "sigmahq")
	if err != nil {
		panic(err) // the embedded tree always has sigmahq
	}
	return sub
}
